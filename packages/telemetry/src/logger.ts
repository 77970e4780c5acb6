import { OpenTelemetryTransportV3 } from '@opentelemetry/winston-transport';
import winston from 'winston';
import type { Logform } from 'winston';
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
