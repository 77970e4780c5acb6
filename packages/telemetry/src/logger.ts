import { OpenTelemetryTransportV3 } from '@opentelemetry/winston-transport';
import winston from 'winston';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import { getTelemetry } from './telemetry.js';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Written as `service` on every line. */
  service: string;
  /** Minimum level (the service's parsed `LOG_LEVEL`); default `info`. */
  level?: string;
}

// The key @opentelemetry/winston-transport reads a record's Context from.
const WINSTON_BRIDGE_CONTEXT = Symbol.for('opentelemetry.js.contrib.winston.context');

/**
 * A winston logger writing one JSON line per entry to stdout (timestamp, level, message,
 * service, meta). Lines about a request carry its trace_id/span_id through {@link requestLogger}. When OTLP logs are configured the lines
 * also go to OTel logs through @opentelemetry/winston-transport (instrumentation-winston is not used).
 */
export function createLogger(options: LoggerOptions): winston.Logger {
  const transports: winston.transport[] = [new winston.transports.Console()];
  if (getTelemetry()?.otlp.logs === true) transports.push(new OpenTelemetryTransportV3());
  const logger = winston.createLogger({
    level: options.level ?? 'info',
    defaultMeta: { service: options.service },
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports,
  });
  return logger;
}

/**
 * A child of `logger` whose lines carry the trace_id and span_id of the span in `ctx` (the
 * explicit-context form of a trace-stamping format); `logger` itself when `ctx` has no valid
 * span. Winston runs formats before its level filter, so guard hot calls with
 * `logger.isDebugEnabled()` and the like before building them.
 */
export function requestLogger(logger: winston.Logger, ctx: Context): winston.Logger {
  const spanContext = trace.getSpanContext(ctx);
  if (spanContext === undefined || !isSpanContextValid(spanContext)) return logger;
  return logger.child({
    trace_id: spanContext.traceId,
    span_id: spanContext.spanId,
    // The OTel winston bridge takes a record's context from here (in place of an active one).
    [WINSTON_BRIDGE_CONTEXT]: ctx,
  });
}
