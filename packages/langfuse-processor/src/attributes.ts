/**
 * Langfuse's OTel attribute vocabulary, as read by Langfuse's server-side OTel ingestion
 * (`OtelIngestionProcessor`) and written by `@langfuse/otel` v5 (`LangfuseOtelSpanAttributes`).
 */
export const LANGFUSE_ATTRIBUTES = {
  TRACE_NAME: 'langfuse.trace.name',
  TRACE_INPUT: 'langfuse.trace.input',
  TRACE_OUTPUT: 'langfuse.trace.output',
  TRACE_TAGS: 'langfuse.trace.tags',
  TRACE_METADATA: 'langfuse.trace.metadata',
  OBSERVATION_TYPE: 'langfuse.observation.type',
  OBSERVATION_LEVEL: 'langfuse.observation.level',
  OBSERVATION_STATUS_MESSAGE: 'langfuse.observation.status_message',
  OBSERVATION_INPUT: 'langfuse.observation.input',
  OBSERVATION_OUTPUT: 'langfuse.observation.output',
  OBSERVATION_METADATA: 'langfuse.observation.metadata',
  OBSERVATION_MODEL: 'langfuse.observation.model.name',
  OBSERVATION_MODEL_PARAMETERS: 'langfuse.observation.model.parameters',
  OBSERVATION_USAGE_DETAILS: 'langfuse.observation.usage_details',
  OBSERVATION_COMPLETION_START_TIME: 'langfuse.observation.completion_start_time',
  ENVIRONMENT: 'langfuse.environment',
  RELEASE: 'langfuse.release',
  AS_ROOT: 'langfuse.internal.as_root',
} as const;

/** Attributes the lakehouse services put on their spans (the input of the translation). */
export const LAKEHOUSE_ATTRIBUTES = {
  SESSION_ROOT: 'lakehouse.session.root',
  UPSTREAM_PARENT_SPAN_ID: 'lakehouse.upstream_parent_span_id',
  KIND: 'lakehouse.kind',
  MODEL: 'lakehouse.model',
  PROVIDER: 'lakehouse.provider',
  REQUEST: 'lakehouse.request',
  FINAL_VERDICT: 'lakehouse.final_verdict',
  ITERATIONS: 'lakehouse.iterations',
  MAX_ITERATIONS: 'lakehouse.max_iterations',
  GROUNDED_IN_ROSTER: 'lakehouse.grounded_in_roster',
  ARTIFACT: 'lakehouse.artifact',
  ATTEMPT_ITERATION: 'lakehouse.attempt.iteration',
  ATTEMPT_VERDICT: 'lakehouse.attempt.verdict',
  ATTEMPT_INPUT: 'lakehouse.attempt.input',
  ATTEMPT_OUTPUT: 'lakehouse.attempt.output',
  VALIDATE_KIND: 'lakehouse.validate.kind',
  VALIDATE_OK: 'lakehouse.validate.ok',
  VALIDATE_REPORT: 'lakehouse.validate.report',
  COMPLETION_START_TIME: 'lakehouse.completion_start_time',
} as const;

/** Langfuse observation types this package emits. */
export type ObservationType = 'span' | 'generation' | 'guardrail';

/** Langfuse observation levels. */
export type ObservationLevel = 'DEBUG' | 'DEFAULT' | 'WARNING' | 'ERROR';

/** Instrumentation scopes whose spans are transport noise: dropped, never left as a dangling parent. */
export const DEFAULT_NOISE_SCOPES: readonly string[] = [
  '@opentelemetry/instrumentation-http',
  '@opentelemetry/instrumentation-express',
  '@opentelemetry/instrumentation-undici',
  '@opentelemetry/instrumentation-net',
  '@opentelemetry/instrumentation-dns',
  '@opentelemetry/instrumentation-fs',
  '@opentelemetry/instrumentation-router',
  '@opentelemetry/instrumentation-connect',
];
