import { metrics } from '@opentelemetry/api';
import type { Counter, MeterProvider } from '@opentelemetry/api';
import type { TraceHeaderRejectReason } from './trace-id.js';

/** OTel name of the trace-header rejection counter (Prometheus: `lakehouse_trace_header_rejected_total`). */
export const TRACE_HEADER_REJECTED_METRIC = 'lakehouse.trace_header.rejected';

/** Scope name for this package's tracer/meter. */
export const TELEMETRY_SCOPE = '@lakehouse/telemetry';

let cachedProvider: MeterProvider | undefined;
let cachedCounter: Counter | undefined;

// The metrics API has no proxy provider: a counter made before startTelemetry() would stay a
// no-op forever, so the counter is re-created whenever the global provider changes.
function counter(): Counter {
  const provider = metrics.getMeterProvider();
  if (cachedCounter === undefined || provider !== cachedProvider) {
    cachedProvider = provider;
    cachedCounter = provider.getMeter(TELEMETRY_SCOPE).createCounter(TRACE_HEADER_REJECTED_METRIC, {
      description: 'Inbound trace headers ignored because their value was invalid',
      unit: '{header}',
    });
  }
  return cachedCounter;
}

/** Counts one rejected inbound trace header. Never throws; the raw value is never recorded. */
export function recordTraceHeaderRejection(
  header: 'x-lakehouse-trace-id' | 'traceparent',
  reason: TraceHeaderRejectReason,
): void {
  try {
    counter().add(1, { header, reason });
  } catch {
    // Metrics must never break request handling.
  }
}
