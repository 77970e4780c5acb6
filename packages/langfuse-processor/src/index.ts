export {
  LangfuseTranslatingSpanProcessor,
  createLangfuseSpanProcessor,
  SPANS_DROPPED_METRIC,
  LANGFUSE_OTLP_TRACES_PATH,
  joinedParentSpanId,
} from './langfuse-translating-span-processor.js';
export type { DroppedSpanCounts } from './langfuse-translating-span-processor.js';
export { LangfuseConfigError, resolveConfig as resolveLangfuseConfig } from './langfuse-config.js';
export type {
  LangfuseProcessorOptions,
  LangfuseProcessorLogger,
  LangfuseDestination,
} from './langfuse-config.js';
export { langfuseSpanExport } from './service-span-export.js';
export type { ServiceSpanExport } from './service-span-export.js';
export type { DropReason } from './bounded-export-queue.js';
export { OtlpJsonFileSpanExporter } from './otlp-json-file-span-exporter.js';
export { MaskingSpanExporter } from './masking-span-exporter.js';
export type { MaskingSpanExporterOptions } from './masking-span-exporter.js';
export { defaultMask, REDACTED, isContentKey } from './mask.js';
export { translateSpan } from './translate-span.js';
export { outputMessagesText } from './observations.js';
export type { SpanPlacement, TranslateOptions } from './translate-span.js';
export { LANGFUSE_ATTRIBUTES, LAKEHOUSE_ATTRIBUTES, DEFAULT_NOISE_SCOPES } from './attributes.js';
export type { ObservationType, ObservationLevel } from './attributes.js';
export { buildLangfuseTrees, renderTraceTree } from './trace-tree.js';
export { onlyTrace } from './trace-file.js';
export type { LangfuseTraceTree, TreeObservation } from './trace-tree.js';
export {
  fetchLangfuseObservations,
  langfuseTreeFromObservations,
  langfuseAuthorization,
} from './langfuse-public-api.js';
export type {
  LangfuseApi,
  LangfuseApiObservation,
  LangfuseObservationsResult,
} from './langfuse-public-api.js';
