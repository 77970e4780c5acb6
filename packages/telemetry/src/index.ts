export {
  startTelemetry,
  getTelemetry,
  WINSTON_BRIDGE_SCOPE,
  DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT,
} from './telemetry.js';
export { GEN_AI_OPERATION_DURATION_BUCKETS, GEN_AI_TOKEN_USAGE_BUCKETS } from './gen-ai-metrics.js';
export {
  createBoundedAttributesProcessor,
  METRIC_CODE_KEYS,
  METRIC_LABEL_MAX_LENGTH,
  METRIC_MAX_LABEL_BYTES,
  METRIC_MAX_OVERFLOW_SERIES,
  METRIC_MAX_SERIES,
  METRIC_OVERFLOW_ATTRIBUTES,
} from './metric-bounds.js';
export { createBoundedMeterProvider } from './bounded-meter-provider.js';
export type { BoundedMeterProvider } from './bounded-meter-provider.js';
export type { MetricBoundsOptions, BoundedAttributesProcessor } from './metric-bounds.js';
export { boundText, quoteClientValue, TRUNCATION_MARK } from './bounds.js';
export { createBoundedServer, readServerLimits, DEFAULT_SERVER_LIMITS } from './bounded-server.js';
export type { BoundedServerOptions, ConnectionDropReason, ServerLimits } from './bounded-server.js';
export type { Telemetry, TelemetryOptions } from './telemetry.js';
export {
  TRACE_ID_HEADER,
  MAX_TRACE_ID_HEADER_BYTES,
  parseTraceIdHeader,
  classifyTraceIdHeader,
  randomTraceId,
  randomSpanId,
} from './trace-id.js';
export type { TraceHeaderRejectReason, TraceIdHeaderResult } from './trace-id.js';
export {
  LakehouseTraceIdPropagator,
  createPropagator,
  isSeededTraceContext,
} from './propagator.js';
export { TRACE_HEADER_REJECTED_METRIC } from './rejection-counter.js';
export {
  extractRequestTrace,
  requestTrace,
  resolveTraceId,
  isTrustedRemoteParent,
  startSpan,
  withSpan,
  hopHeaders,
  requestTraceIdGenerator,
} from './request-trace.js';
export type { RequestTrace, TraceIdSource } from './request-trace.js';
export { requestTelemetry, TRACE_ID_RESPONSE_HEADER } from './request-telemetry.js';
export type { RequestTelemetryOptions } from './request-telemetry.js';
export { HopSigner, hopSignerFromEnv, HOP_SIGNATURE_HEADER } from './hop-signature.js';
export { captureLimit, captureText, jsonStringPrefix } from './capture.js';
export { METRICS_RENDER_MAX_AGE_MS, metricsHandler } from './metrics-handler.js';
export type { MetricsHandlerOptions } from './metrics-handler.js';
export { createLogger, requestLogger, LOG_FIELD_MAX_LENGTH } from './logger.js';
export type { LoggerOptions } from './logger.js';
export {
  ConfigError,
  isHttpUrl,
  loadConfigOrExit,
  readBoolean,
  readContentCapture,
  readHttpUrl,
  readInt,
  readLogLevel,
  readNumber,
  readString,
} from './env-config.js';
export type { Env, LogLevel } from './env-config.js';
export { instrumentService } from './service-telemetry.js';
