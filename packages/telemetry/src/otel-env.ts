// The standard OTEL_* variables this SDK start-up reads or lets the SDK read, parsed once. The
// SDK's own readers turn a malformed value into "unset" with a diag warning nobody sees (an
// attribute limit of "10k" meant unlimited); here it stops the service naming the variable.
import { ConfigError, readInt, readString } from './env-config.js';
import type { Env } from './env-config.js';
import { DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT } from './limits.js';

/** OTLP protocols the OpenTelemetry specification defines (`OTEL_EXPORTER_OTLP_*PROTOCOL`). */
const OTLP_PROTOCOLS = ['http/json', 'http/protobuf', 'grpc'] as const;

/** One of the OTLP protocols. */
type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

/** The signals an OTLP variable can be scoped to. */
export type OtlpSignal = 'TRACES' | 'METRICS' | 'LOGS';

/** The OTEL_* settings of one process, as {@link readOtelEnv} parsed them. */
export interface OtelEnv {
  /** `OTEL_SDK_DISABLED=true`: start nothing. */
  readonly sdkDisabled: boolean;
  /** Span attribute value length limit (characters): the SPAN_ variable, else the general one, else ours. */
  readonly attributeValueLengthLimit: number;
  readonly metricExportIntervalMillis: number;
  readonly metricExportTimeoutMillis: number;
  /** `OTEL_BLRP_*`, unset ones left to the SDK's defaults. */
  readonly logBatch: {
    readonly maxQueueSize?: number;
    readonly scheduledDelayMillis?: number;
    readonly exportTimeoutMillis?: number;
    readonly maxExportBatchSize?: number;
  };
  /** The requested OTLP protocol of each signal (its own variable, else the general one). */
  readonly otlpProtocol: Readonly<Record<OtlpSignal, OtlpProtocol | undefined>>;
}

// Past 2^31 - 1 ms Node fires a timer at once: a huge interval would export in a busy loop.
const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_SIZE = 2 ** 31 - 1;

// Integers the SDK reads from the environment itself (batch span processor, span limits,
// exporter timeouts): checked here so a malformed one stops the service instead of being ignored.
const SDK_INTEGERS: ReadonlyArray<readonly [string, number, number]> = [
  ['OTEL_BSP_SCHEDULE_DELAY', 0, MAX_TIMER_MS],
  ['OTEL_BSP_EXPORT_TIMEOUT', 0, MAX_TIMER_MS],
  ['OTEL_BSP_MAX_QUEUE_SIZE', 1, MAX_SIZE],
  ['OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 1, MAX_SIZE],
  ['OTEL_ATTRIBUTE_COUNT_LIMIT', 0, MAX_SIZE],
  ['OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', 0, MAX_SIZE],
  ['OTEL_SPAN_EVENT_COUNT_LIMIT', 0, MAX_SIZE],
  ['OTEL_SPAN_LINK_COUNT_LIMIT', 0, MAX_SIZE],
  ['OTEL_EXPORTER_OTLP_TIMEOUT', 0, MAX_TIMER_MS],
  ['OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', 0, MAX_TIMER_MS],
  ['OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', 0, MAX_TIMER_MS],
  ['OTEL_EXPORTER_OTLP_LOGS_TIMEOUT', 0, MAX_TIMER_MS],
];

/** `name` as an integer in [min, max], or undefined when unset or blank. */
function optionalInt(env: Env, name: string, min: number, max: number): number | undefined {
  return readString(env, name) === undefined ? undefined : readInt(env, name, 0, min, max);
}

/** OTEL_SDK_DISABLED: `true` or `false` in any case, as the specification spells it. */
function readSdkDisabled(env: Env): boolean {
  const value = readString(env, 'OTEL_SDK_DISABLED')?.toLowerCase();
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new ConfigError(
    'OTEL_SDK_DISABLED',
    `expected true or false, got ${JSON.stringify(value)}`,
  );
}

function readProtocol(env: Env, name: string): OtlpProtocol | undefined {
  const value = readString(env, name);
  if (value === undefined) return undefined;
  const protocol = OTLP_PROTOCOLS.find((p) => p === value);
  if (protocol === undefined) {
    throw new ConfigError(
      name,
      `expected one of ${OTLP_PROTOCOLS.join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  return protocol;
}

/**
 * Parses the OTEL_* variables of `env`. Unset and blank are unset (the specification's rule).
 * Throws {@link ConfigError} naming the first malformed variable. Pure.
 */
export function readOtelEnv(env: Env): OtelEnv {
  const sdkDisabled = readSdkDisabled(env);
  const general = readProtocol(env, 'OTEL_EXPORTER_OTLP_PROTOCOL');
  const otlpProtocol = {
    TRACES: readProtocol(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? general,
    METRICS: readProtocol(env, 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL') ?? general,
    LOGS: readProtocol(env, 'OTEL_EXPORTER_OTLP_LOGS_PROTOCOL') ?? general,
  };
  const attributeValueLengthLimit =
    optionalInt(env, 'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', 1, MAX_SIZE) ??
    optionalInt(env, 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', 1, MAX_SIZE) ??
    DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT;
  const metricExportIntervalMillis = readInt(
    env,
    'OTEL_METRIC_EXPORT_INTERVAL',
    60_000,
    1,
    MAX_TIMER_MS,
  );
  // The reader refuses a timeout longer than its interval: cut to it.
  const metricExportTimeoutMillis = Math.min(
    readInt(env, 'OTEL_METRIC_EXPORT_TIMEOUT', 30_000, 0, MAX_TIMER_MS),
    metricExportIntervalMillis,
  );
  const logBatch = {
    maxQueueSize: optionalInt(env, 'OTEL_BLRP_MAX_QUEUE_SIZE', 1, MAX_SIZE),
    scheduledDelayMillis: optionalInt(env, 'OTEL_BLRP_SCHEDULE_DELAY', 0, MAX_TIMER_MS),
    exportTimeoutMillis: optionalInt(env, 'OTEL_BLRP_EXPORT_TIMEOUT', 0, MAX_TIMER_MS),
    maxExportBatchSize: optionalInt(env, 'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE', 1, MAX_SIZE),
  };
  for (const [name, min, max] of SDK_INTEGERS) optionalInt(env, name, min, max);
  return {
    sdkDisabled,
    attributeValueLengthLimit,
    metricExportIntervalMillis,
    metricExportTimeoutMillis,
    logBatch,
    otlpProtocol,
  };
}
