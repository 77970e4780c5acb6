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

const OFF_VALUES = new Set(['false', '0', 'off', 'no']);

/** Whether prompts/outputs may be recorded: env CONTENT_CAPTURE, default true; false/0/off/no disable. */
export function contentCaptureEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const raw = env['CONTENT_CAPTURE'];
  if (raw === undefined) return true;
  return !OFF_VALUES.has(raw.trim().toLowerCase());
}
