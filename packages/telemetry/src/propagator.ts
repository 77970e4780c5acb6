import { createContextKey, isSpanContextValid, trace, TraceFlags } from '@opentelemetry/api';
import type { Context, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import {
  CompositePropagator,
  isTracingSuppressed,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { HOP_SIGNATURE_HEADER } from './hop-signature.js';
import type { HopSigner } from './hop-signature.js';
import { recordTraceHeaderRejection } from './rejection-counter.js';
import {
  classifyTraceIdHeader,
  MAX_TRACE_ID_HEADER_BYTES,
  randomSpanId,
  TRACE_ID_HEADER,
} from './trace-id.js';
import type { TraceHeaderRejectReason } from './trace-id.js';

const SEEDED_KEY = createContextKey('lakehouse.trace_id.seeded');
const TRACEPARENT = 'traceparent';
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** True when the context's remote parent was synthesised from `x-lakehouse-trace-id`. */
export function isSeededTraceContext(ctx: Context): boolean {
  return ctx.getValue(SEEDED_KEY) === true;
}

function traceparentReason(value: unknown): TraceHeaderRejectReason {
  if (typeof value !== 'string') return 'not_string';
  if (value.length > MAX_TRACE_ID_HEADER_BYTES * 4) return 'too_long';
  if (CONTROL.test(value)) return 'control_chars';
  return 'invalid';
}

/**
 * Mirrors the trace id in `x-lakehouse-trace-id`. Extract seeds the trace id from the header only
 * when no valid span context (traceparent) is already in the context; invalid values are counted
 * and dropped. Must run after W3CTraceContextPropagator in a composite. Never throws.
 */
export class LakehouseTraceIdPropagator implements TextMapPropagator {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = trace.getSpanContext(context);
    if (spanContext === undefined || !isSpanContextValid(spanContext)) return;
    if (isTracingSuppressed(context)) return;
    setter.set(carrier, TRACE_ID_HEADER, spanContext.traceId);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const existing = trace.getSpanContext(context);
    const hasValidParent = existing !== undefined && isSpanContextValid(existing);
    if (!hasValidParent) {
      // W3CTraceContextPropagator drops a bad traceparent silently; count it here.
      const traceparent = getter.get(carrier, TRACEPARENT);
      if (traceparent !== undefined) {
        recordTraceHeaderRejection(TRACEPARENT, traceparentReason(traceparent));
      }
    }
    const raw = getter.get(carrier, TRACE_ID_HEADER);
    if (raw === undefined) return context;
    const result = classifyTraceIdHeader(Array.isArray(raw) && raw.length === 1 ? raw[0] : raw);
    if (!result.ok) {
      recordTraceHeaderRejection(TRACE_ID_HEADER, result.reason);
      return context;
    }
    // traceparent wins: a valid header alongside it is simply redundant.
    if (hasValidParent) return context;
    const seeded = trace.setSpanContext(context, {
      traceId: result.traceId,
      spanId: randomSpanId(),
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    return seeded.setValue(SEEDED_KEY, true);
  }

  fields(): string[] {
    return [TRACE_ID_HEADER];
  }
}

/**
 * Signs the W3C parent a hop carries ({@link HopSigner}) in `x-lakehouse-hop`, so the callee can
 * tell our own hops from clients. Extract reads nothing: the edge verifies the signature
 * (extractRequestTrace), where the parent is decided. Never throws.
 */
class HopSignaturePropagator implements TextMapPropagator {
  private readonly _signer: HopSigner;

  constructor(signer: HopSigner) {
    this._signer = signer;
  }

  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = trace.getSpanContext(context);
    if (spanContext === undefined || !isSpanContextValid(spanContext)) return;
    if (isTracingSuppressed(context)) return;
    setter.set(
      carrier,
      HOP_SIGNATURE_HEADER,
      this._signer.sign(spanContext.traceId, spanContext.spanId),
    );
  }

  extract(context: Context): Context {
    return context;
  }

  fields(): string[] {
    return [HOP_SIGNATURE_HEADER];
  }
}

/**
 * The one composite propagator for both services: W3C trace context, W3C baggage, the mirror
 * and, given a signer, the hop signature. Baggage is injected only from what our own code put
 * in a context; the edge never extracts a client's (extractRequestTrace).
 */
export function createPropagator(signer?: HopSigner): TextMapPropagator {
  const propagators: TextMapPropagator[] = [
    new W3CTraceContextPropagator(),
    new W3CBaggagePropagator(),
    new LakehouseTraceIdPropagator(),
  ];
  if (signer !== undefined) propagators.push(new HopSignaturePropagator(signer));
  return new CompositePropagator({ propagators });
}
