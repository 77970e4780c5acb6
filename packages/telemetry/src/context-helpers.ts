import { context, isSpanContextValid, trace } from '@opentelemetry/api';

/** Trace id (32 hex) of the active span, or undefined when no valid span is active. */
export function currentTraceId(): string | undefined {
  const spanContext = trace.getSpanContext(context.active());
  return spanContext !== undefined && isSpanContextValid(spanContext)
    ? spanContext.traceId
    : undefined;
}

/** Span id (16 hex) of the active span, or undefined when no valid span is active. */
export function currentSpanId(): string | undefined {
  const spanContext = trace.getSpanContext(context.active());
  return spanContext !== undefined && isSpanContextValid(spanContext)
    ? spanContext.spanId
    : undefined;
}
