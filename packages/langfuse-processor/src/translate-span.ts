import { SpanStatusCode } from '@opentelemetry/api';
import type { Attributes, SpanContext } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { LAKEHOUSE_ATTRIBUTES as LH, LANGFUSE_ATTRIBUTES as LF } from './attributes.js';
import { copySpan } from './copy-span.js';
import type { CopyOptions } from './copy-span.js';
import { maskAttributesInPlace, sanitizeAttributes } from './mask.js';
import { observe, str, Translation } from './observations.js';

/** Where a translated span sits in the Langfuse tree. */
export interface SpanPlacement {
  /** Exported parent observation; for a root, the upstream parent (kept only as an attribute). */
  readonly parent: SpanContext | undefined;
  /** True for a Langfuse trace root (`langfuse.internal.as_root`). */
  readonly root: boolean;
  /** A caller's span this observation is not exported under (kept as an attribute). */
  readonly upstream?: SpanContext | undefined;
}

/** Settings of {@link translateSpan}. */
export interface TranslateOptions extends CopyOptions {
  readonly environment?: string | undefined;
  readonly release?: string | undefined;
}

// Source attributes moved into langfuse.* ones: dropped so content is not shipped twice.
const MOVED_SOURCE_KEYS = [
  LH.PROMPT,
  LH.SYSTEM,
  LH.CONTEXT,
  LH.TEMPERATURE,
  LH.MAX_TOKENS,
  LH.ARTIFACT,
  LH.ATTEMPT_PROMPT,
  LH.ATTEMPT_RAW,
  LH.ATTEMPT_ERROR,
  LH.VALIDATE_REPORT,
  LH.COMPLETION_START_TIME,
  LH.COMPLETION,
  // The generation's input/output are the same strings (or their text), sent once.
  'gen_ai.input.messages',
  'gen_ai.output.messages',
];
// Source attributes the translation fully expresses in langfuse.* ones (tags, metadata, input,
// level, model, parameters): not sent a second time. Token counts stay (the trace file's reader
// and Langfuse's usage fallback read them), so do the markers tree readers use.
const MAPPED_SOURCE_KEYS = [
  LH.KIND,
  LH.MODEL,
  LH.PROVIDER,
  LH.MAX_ITERATIONS,
  LH.FINAL_VERDICT,
  LH.ITERATIONS,
  LH.GROUNDED_IN_ROSTER,
  LH.ATTEMPT_ITERATION,
  LH.ATTEMPT_VERDICT,
  LH.VALIDATE_KIND,
  LH.VALIDATE_OK,
  'gen_ai.operation.name',
  'gen_ai.provider.name',
  'gen_ai.request.model',
  'gen_ai.request.temperature',
  'gen_ai.request.max_tokens',
  'gen_ai.response.model',
  'gen_ai.response.finish_reasons',
];
const MOVED: ReadonlySet<string> = new Set([...MOVED_SOURCE_KEYS, ...MAPPED_SOURCE_KEYS]);

/**
 * Translates one ended span into Langfuse's vocabulary at `placement`: returns a new, immutable
 * ReadableSpan (the input is never mutated) with masking and content capture applied to every
 * string attribute, event attribute and the status message. Pure; does not throw on odd input.
 */
export function translateSpan(
  span: ReadableSpan,
  placement: SpanPlacement,
  options: TranslateOptions,
): ReadableSpan {
  const src = span.attributes;
  // Only roots carry trace-level attributes (the processor exports a session joining a caller's
  // trace as a child of the caller's span, never as a root).
  const ownsTrace = placement.root;
  const attrs: Attributes = {};
  for (const key in src) {
    // Skipped rather than deleted afterwards: delete would turn the object into a slow dictionary.
    if (MOVED.has(key)) continue;
    // The processor alone decides as_root.
    if (key.startsWith('langfuse.trace.') && !ownsTrace) continue;
    if (key === LF.AS_ROOT || key === 'langfuse.internal.is_app_root') continue;
    attrs[key] = src[key];
  }

  const t = new Translation(attrs, options);
  const observation = observe(span, t);
  const statusMessage = observation.statusMessage ?? str(span.status.message);
  attrs[LF.OBSERVATION_TYPE] = observation.type;
  attrs[LF.OBSERVATION_LEVEL] =
    span.status.code === SpanStatusCode.ERROR ? 'ERROR' : observation.level;
  if (statusMessage !== undefined) attrs[LF.OBSERVATION_STATUS_MESSAGE] = statusMessage;
  if (options.environment !== undefined) attrs[LF.ENVIRONMENT] = options.environment;
  if (options.release !== undefined) attrs[LF.RELEASE] = options.release;
  if (placement.root) {
    if (ownsTrace && observation.trace !== undefined) Object.assign(attrs, observation.trace);
    attrs[LF.AS_ROOT] = true;
    // Langfuse only takes a parentless span as the trace root (langfuse/langfuse#15927), so a
    // root's upstream parent is kept for forensics but not exported as the parent.
    if (placement.parent !== undefined) attrs[LH.UPSTREAM_PARENT_SPAN_ID] = placement.parent.spanId;
  }
  if (placement.upstream !== undefined)
    attrs[LH.UPSTREAM_PARENT_SPAN_ID] = placement.upstream.spanId;

  // `attrs` is this call's own object: with capture on nothing is dropped, so it is masked where
  // it is rather than copied once more.
  const attributes = options.contentCapture
    ? maskAttributesInPlace(attrs, options.mask, t.onMaskError, t.premasked, t.memo)
    : sanitizeAttributes(attrs, options.mask, false, t.onMaskError, t.vetted, t.premasked, t.memo);
  return copySpan(span, attributes, placement.root ? undefined : placement.parent, options, t.memo);
}
