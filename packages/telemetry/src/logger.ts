import { OpenTelemetryTransportV3 } from '@opentelemetry/winston-transport';
import winston from 'winston';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import { boundText } from './bounds.js';
import { getTelemetry } from './telemetry.js';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Written as `service` on every line. */
  service: string;
  /** Minimum level (the service's parsed `LOG_LEVEL`); default `info`. */
  level?: string;
  /**
   * Applied to every error text a line carries (fields named like `error` or `reasons`, and the
   * message of warn and error lines) before it leaves the process: stdout and OTLP logs. The
   * services pass the secret mask, since errors quote upstreams and clients. Must be pure.
   */
  maskErrors?: (text: string) => string;
}

// The key @opentelemetry/winston-transport reads a record's Context from.
const WINSTON_BRIDGE_CONTEXT = Symbol.for('opentelemetry.js.contrib.winston.context');

/** Longest string a log field keeps (characters); longer ones are cut and end in `…`. */
export const LOG_FIELD_MAX_LENGTH = 8192;
// Nested meta is walked this deep; deeper values are replaced by a marker.
const MAX_LOG_DEPTH = 4;
const MAX_LOG_ARRAY = 100;

function boundField(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return boundText(value, LOG_FIELD_MAX_LENGTH);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return boundText(value.stack ?? value.message, LOG_FIELD_MAX_LENGTH);
  if (depth >= MAX_LOG_DEPTH) return '[nested too deep]';
  if (Array.isArray(value)) {
    const kept = value.slice(0, MAX_LOG_ARRAY).map((v: unknown) => boundField(v, depth + 1));
    if (value.length > MAX_LOG_ARRAY) kept.push(`[${value.length - MAX_LOG_ARRAY} more]`);
    return kept;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = boundField(v, depth + 1);
  return out;
}

/**
 * Winston format cutting every string field (message included, nested meta too) to
 * {@link LOG_FIELD_MAX_LENGTH} characters, so no client value can make a log line huge.
 */
const boundFieldsFormat = winston.format((info) => {
  const record = info as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const value = record[key];
    // Cheap for the common case: short strings and numbers pass untouched.
    if (typeof value === 'string' ? value.length > LOG_FIELD_MAX_LENGTH : typeof value === 'object')
      record[key] = boundField(value, 0);
  }
  return info;
});

// Fields that carry error texts: `error`, `db_error`, `errors`, `reason`, `reasons`, `stack`, ….
const ERROR_FIELD = /error|reason|stack/i;
const MASK_FAILED = '[unavailable]';

/**
 * Winston format applying `mask` to the error texts of a line: string (or string array) fields
 * whose key names an error, and the message of warn and error lines. Never lets a throwing mask
 * through with the raw text.
 */
const maskErrorsFormat = winston.format((info, options: unknown) => {
  const mask = (options as { mask?: (text: string) => string } | undefined)?.mask;
  if (mask === undefined) return info;
  const safe = (text: string): string => {
    try {
      return mask(text);
    } catch {
      return MASK_FAILED;
    }
  };
  const record = info as Record<string, unknown>;
  if ((info.level === 'warn' || info.level === 'error') && typeof info.message === 'string')
    record['message'] = safe(info.message);
  for (const key of Object.keys(record)) {
    if (key === 'message' || !ERROR_FIELD.test(key)) continue;
    const value = record[key];
    if (typeof value === 'string') record[key] = safe(value);
    else if (Array.isArray(value))
      record[key] = value.map((v: unknown) => (typeof v === 'string' ? safe(v) : v));
  }
  return info;
});

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
    format: winston.format.combine(
      winston.format.timestamp(),
      boundFieldsFormat(),
      maskErrorsFormat({ mask: options.maskErrors }),
      winston.format.json(),
    ),
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
