import { OpenTelemetryTransportV3 } from '@opentelemetry/winston-transport';
import winston from 'winston';
import type { Logform } from 'winston';
import { boundText } from './bounds.js';
import { currentSpanId, currentTraceId } from './context-helpers.js';
import { getTelemetry } from './telemetry.js';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Written as `service` on every line. */
  service: string;
  /** Minimum level (the service's parsed `LOG_LEVEL`); default `info`. */
  level?: string;
}

type Info = Logform.TransformableInfo & { trace_id?: unknown; span_id?: unknown };

function stampTrace(info: Info): void {
  if (info.trace_id !== undefined) return;
  const traceId = currentTraceId();
  if (traceId === undefined) return;
  info.trace_id = traceId;
  info.span_id = currentSpanId();
}

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
export const boundFieldsFormat = winston.format((info) => {
  const record = info as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const value = record[key];
    // Cheap for the common case: short strings and numbers pass untouched.
    if (typeof value === 'string' ? value.length > LOG_FIELD_MAX_LENGTH : typeof value === 'object')
      record[key] = boundField(value, 0);
  }
  return info;
});

/** Winston format adding `trace_id`/`span_id` of the active span (when one is valid) to a line. */
export const traceContextFormat = winston.format((info) => {
  stampTrace(info as Info);
  return info;
});

/**
 * A winston logger writing one JSON line per entry to stdout (timestamp, level, message,
 * service, meta, and trace_id/span_id inside a span). When OTLP logs are configured the lines
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
      traceContextFormat(),
      winston.format.json(),
    ),
    transports,
  });
  // Formats can run later than the call when the stream buffers; capture the ids at call time.
  const write = logger.write.bind(logger);
  logger.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (chunk !== null && typeof chunk === 'object') stampTrace(chunk as Info);
    return (write as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof logger.write;
  return logger;
}
