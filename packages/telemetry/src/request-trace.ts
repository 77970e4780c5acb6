import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { createContextKey, propagation, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import type { Context, Span, SpanContext, SpanOptions, Tracer } from '@opentelemetry/api';
import { parseTraceParent, TRACE_PARENT_HEADER } from '@opentelemetry/core';
import { RandomIdGenerator } from '@opentelemetry/sdk-trace-base';
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';
import { HOP_SIGNATURE_HEADER } from './hop-signature.js';
import type { HopSigner } from './hop-signature.js';
import { recordTraceHeaderRejection } from './rejection-counter.js';
import type { TraceHeaderRejectReason } from './trace-id.js';
import {
  classifyTraceIdHeader,
  MAX_TRACE_ID_HEADER_BYTES,
  randomTraceId,
  TRACE_ID_HEADER,
} from './trace-id.js';

/** Where a request's trace id came from: the caller's traceparent, its X-Lakehouse-Trace-Id, or us. */
export type TraceIdSource = 'traceparent' | 'header' | 'minted';

/**
 * The trace a request belongs to, decided once at the edge (SPEC §3) and passed explicitly to
 * everything that starts spans for it. Inbound baggage and tracestate are never read, and the
 * caller's sampled flag is ignored: clients do not steer our observability.
 */
export interface RequestTrace {
  /** 32 lowercase hex: the response header, the row's session_id, every span of the request. */
  readonly traceId: string;
  readonly source: TraceIdSource;
  /** The caller's span (a valid traceparent), as our spans' W3C parent; flags forced to sampled. */
  readonly parent: SpanContext | undefined;
  /** True when the parent carried a valid hop signature: it is one of our own spans. */
  readonly trusted: boolean;
  /** The context to start the request's first spans in (see {@link startSpan}). */
  readonly context: Context;
}

const TRUSTED_KEY = createContextKey('lakehouse.parent.trusted');
const SEED_KEY = createContextKey('lakehouse.trace_id.seed');
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Trace ids of root spans: the seeded id once (see startSpan), else random like the SDK's. */
class SeededIdGenerator implements IdGenerator {
  private readonly _random = new RandomIdGenerator();
  next: string | undefined;

  generateTraceId(): string {
    const seeded = this.next;
    if (seeded === undefined) return this._random.generateTraceId();
    this.next = undefined;
    return seeded;
  }

  generateSpanId(): string {
    return this._random.generateSpanId();
  }
}

interface TracingState {
  readonly enabled: boolean;
  readonly signer: HopSigner | undefined;
}

const ids = new SeededIdGenerator();
let state: TracingState = { enabled: false, signer: undefined };

/**
 * The id generator a tracer provider needs for {@link startSpan} to give root spans their
 * request's trace id (startTelemetry uses it; so must a test's own provider).
 */
export function requestTraceIdGenerator(): IdGenerator {
  return ids;
}

/** Internal (startTelemetry): whether tracing runs and which key signs our hops. */
export function configureRequestTracing(next: TracingState): void {
  state = next;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
  return value;
}

function traceparentReason(value: string): TraceHeaderRejectReason {
  if (value.length > MAX_TRACE_ID_HEADER_BYTES * 4) return 'too_long';
  if (CONTROL.test(value)) return 'control_chars';
  return 'invalid';
}

/**
 * Decides the trace of an inbound request from its headers (SPEC §3): a valid traceparent wins,
 * else a valid X-Lakehouse-Trace-Id seeds the trace id, else a fresh id. Invalid values are
 * counted and ignored. The parent is trusted only with a valid {@link HOP_SIGNATURE_HEADER}.
 * Never throws; reads nothing else (no baggage, no tracestate).
 */
export function extractRequestTrace(headers: IncomingHttpHeaders): RequestTrace {
  const rawParent = headers[TRACE_PARENT_HEADER];
  let parent: SpanContext | undefined;
  if (rawParent !== undefined) {
    const value = typeof rawParent === 'string' ? rawParent : undefined;
    const parsed =
      value !== undefined && value.length <= MAX_TRACE_ID_HEADER_BYTES * 4
        ? parseTraceParent(value)
        : null;
    if (parsed === null) {
      recordTraceHeaderRejection(
        TRACE_PARENT_HEADER,
        value === undefined ? 'not_string' : traceparentReason(value),
      );
    } else {
      // The caller's flags and tracestate are dropped: we sample every session ourselves.
      parent = {
        traceId: parsed.traceId,
        spanId: parsed.spanId,
        traceFlags: TraceFlags.SAMPLED,
        isRemote: true,
      };
    }
  }
  const rawId = headers[TRACE_ID_HEADER];
  let headerId: string | undefined;
  if (rawId !== undefined) {
    const result = classifyTraceIdHeader(
      Array.isArray(rawId) && rawId.length === 1 ? rawId[0] : rawId,
    );
    if (result.ok) headerId = result.traceId;
    else recordTraceHeaderRejection(TRACE_ID_HEADER, result.reason);
  }
  if (parent !== undefined) {
    const signer = state.signer;
    const trusted =
      signer !== undefined &&
      signer.verify(parent.traceId, parent.spanId, header(headers, HOP_SIGNATURE_HEADER));
    let ctx = trace.setSpanContext(ROOT_CONTEXT, parent);
    if (trusted) ctx = ctx.setValue(TRUSTED_KEY, true);
    return { traceId: parent.traceId, source: 'traceparent', parent, trusted, context: ctx };
  }
  const source: TraceIdSource = headerId !== undefined ? 'header' : 'minted';
  const traceId = headerId ?? randomTraceId();
  const ctx = ROOT_CONTEXT.setValue(SEED_KEY, traceId);
  return { traceId, source, parent: undefined, trusted: false, context: ctx };
}

const traces = new WeakMap<IncomingMessage, RequestTrace>();

/** The request's {@link RequestTrace}, decided on first use and kept for the request. Never throws. */
export function requestTrace(req: IncomingMessage): RequestTrace {
  let found = traces.get(req);
  if (found === undefined) {
    found = extractRequestTrace(req.headers);
    traces.set(req, found);
  }
  return found;
}

/** The request's trace id (see {@link requestTrace}). */
export function resolveTraceId(req: IncomingMessage): string {
  return requestTrace(req).traceId;
}

/**
 * True when `ctx`'s remote parent came with a valid hop signature, i.e. it is a span of our own
 * services; the Langfuse processor places observations under such parents only.
 */
export function isTrustedRemoteParent(ctx: Context): boolean {
  return ctx.getValue(TRUSTED_KEY) === true;
}

/**
 * Starts a span under `ctx` (a request's context, or one from {@link withSpan}): the explicit
 * form of tracer.startSpan used everywhere instead of an async context manager. A root span
 * under a request context takes the request's trace id.
 */
export function startSpan(tracer: Tracer, name: string, options: SpanOptions, ctx: Context): Span {
  if (trace.getSpan(ctx) === undefined) {
    const seed = ctx.getValue(SEED_KEY);
    if (typeof seed === 'string') ids.next = seed;
  }
  try {
    return tracer.startSpan(name, options, ctx);
  } finally {
    ids.next = undefined;
  }
}

/** `ctx` with `span` as the parent of what starts under it next. */
export function withSpan(ctx: Context, span: Span): Context {
  return trace.setSpan(ctx, span);
}

/**
 * Headers a hop carries for the span in `ctx` (SPEC §3): traceparent, the mirrored
 * x-lakehouse-trace-id and the hop signature, through the global composite propagator. Only what
 * our own code put in `ctx` is sent; nothing a client sent is forwarded.
 */
export function hopHeaders(ctx: Context): Record<string, string> {
  const out: Record<string, string> = {};
  propagation.inject(ctx, out);
  return out;
}
