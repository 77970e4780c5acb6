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

/**
 * The `lakehouse.*` span vocabulary: what the services (gateway iterate/attempt/validate spans,
 * chatd's chat span) write and what {@link translateSpan} reads. Producers and the translator
 * import these constants, so a rename on one side cannot silently break the Langfuse tree.
 */
export const LAKEHOUSE_ATTRIBUTES = {
  /** On the gateway's iterate span: marks the session root (boolean true). */
  SESSION_ROOT: 'lakehouse.session.root',
  /** Written by the translator on a root: the upstream parent it did not export as parent. */
  UPSTREAM_PARENT_SPAN_ID: 'lakehouse.upstream_parent_span_id',
  KIND: 'lakehouse.kind',
  /** Iterate and attempt spans: the requested model. */
  MODEL: 'lakehouse.model',
  /** Iterate and attempt spans, and chatd's chat span: the configured provider name. */
  PROVIDER: 'lakehouse.provider',
  /** Content: the iterate request's prompt, as the client sent it (cut to the attribute limit). */
  PROMPT: 'lakehouse.prompt',
  /** Content: the iterate request's system prompt. */
  SYSTEM: 'lakehouse.system',
  /** Content: the iterate request's context (the contract) as JSON. */
  CONTEXT: 'lakehouse.context',
  TEMPERATURE: 'lakehouse.temperature',
  MAX_TOKENS: 'lakehouse.max_tokens',
  FINAL_VERDICT: 'lakehouse.final_verdict',
  ITERATIONS: 'lakehouse.iterations',
  MAX_ITERATIONS: 'lakehouse.max_iterations',
  GROUNDED_IN_ROSTER: 'lakehouse.grounded_in_roster',
  /** Content: the accepted artifact as JSON. */
  ARTIFACT: 'lakehouse.artifact',
  ATTEMPT_ITERATION: 'lakehouse.attempt.iteration',
  /** `accepted` | `validation_failed` | `no_json` | `infra_error`; unset when the attempt threw. */
  ATTEMPT_VERDICT: 'lakehouse.attempt.verdict',
  /** Why the attempt was not accepted. */
  ATTEMPT_ERROR: 'lakehouse.attempt.error',
  /** Content: the prompt sent on this attempt. */
  ATTEMPT_PROMPT: 'lakehouse.attempt.prompt',
  /** Content: the model's raw reply on this attempt. */
  ATTEMPT_RAW: 'lakehouse.attempt.raw',
  VALIDATE_KIND: 'lakehouse.validate.kind',
  VALIDATE_OK: 'lakehouse.validate.ok',
  /** Content-free: the validation report as JSON. */
  VALIDATE_REPORT: 'lakehouse.validate.report',
  /** chatd's chat span: ISO time of the first completion token. */
  COMPLETION_START_TIME: 'lakehouse.completion_start_time',
  /** Content: chatd's completion text (the generation's output, beside gen_ai.output.messages). */
  COMPLETION: 'lakehouse.completion',
  /**
   * On a request's first span: where its trace id came from, `minted` (by us) | `traceparent` |
   * `header` (chosen by the caller). Only a span whose service minted the trace id sets the
   * trace-level name/input/output: a session joining a caller's trace never overwrites them.
   */
  TRACE_ID_SOURCE: 'lakehouse.trace_id.source',
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
