import { SpanStatusCode } from '@opentelemetry/api';
import type { AttributeValue, Attributes, SpanContext } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { LAKEHOUSE_ATTRIBUTES as LH, LANGFUSE_ATTRIBUTES as LF } from './attributes.js';
import type { ObservationLevel, ObservationType } from './attributes.js';
import { copySpan } from './copy-span.js';
import type { CopyOptions } from './copy-span.js';
import {
  maskAttributesInPlace,
  maskValue,
  redactContentValue,
  sanitizeAttributes,
} from './mask.js';

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

function parseJson(value: AttributeValue | undefined): unknown {
  if (typeof value !== 'string') return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

function str(value: AttributeValue | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function num(value: AttributeValue | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function isTrue(value: AttributeValue | undefined): boolean {
  return value === true || value === 'true';
}

/** Text of OTel GenAI output messages: `[{role, content}]` or `[{role, parts:[{type:'text', content}]}]`. */
export function outputMessagesText(value: AttributeValue | undefined): string | undefined {
  const parsed = parseJson(value);
  if (!Array.isArray(parsed)) return typeof value === 'string' ? value : undefined;
  const texts: string[] = [];
  for (const message of parsed as unknown[]) {
    if (message === null || typeof message !== 'object') continue;
    const m = message as { content?: unknown; parts?: unknown };
    if (typeof m.content === 'string') texts.push(m.content);
    if (Array.isArray(m.parts)) {
      for (const part of m.parts as unknown[]) {
        const p = part as { type?: unknown; content?: unknown } | null;
        if (
          p !== null &&
          typeof p === 'object' &&
          typeof p.content === 'string' &&
          (p.type === undefined || p.type === 'text')
        ) {
          texts.push(p.content);
        }
      }
    }
  }
  return texts.length > 0 ? texts.join('') : typeof value === 'string' ? value : undefined;
}

function isIsoDate(value: string | undefined): value is string {
  return value !== undefined && !Number.isNaN(Date.parse(value));
}

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

  const statusError = span.status.code === SpanStatusCode.ERROR;
  let type: ObservationType = 'span';
  let level: ObservationLevel = 'DEFAULT';
  let statusMessage = str(span.status.message);
  const trace: Attributes = {};
  // With capture off, structured wrappers keep their non-text fields; free text is dropped.
  const vetted = new Set<string>();
  // Values built here from masked texts and our own numbers and names: not masked again. Texts
  // are masked once each, before they are encoded into the JSON wrappers (a wrapper key such as
  // max_tokens would otherwise send the whole request through every pattern).
  const premasked = new Set<string>();
  const memo = new Map<string, string>();
  const onMaskError = options.onMaskError ?? (() => undefined);
  const m = (text: string): string => maskValue(text, options.mask, onMaskError, memo) as string;
  const put = (target: Attributes, key: string, value: string): void => {
    target[key] = value;
    premasked.add(key);
  };
  const setContent = (
    target: Attributes,
    key: string,
    value: string | undefined,
    structured: boolean,
  ): void => {
    if (value === undefined) return;
    if (options.contentCapture) {
      target[key] = value;
      return;
    }
    const reduced = structured ? redactContentValue(value) : undefined;
    if (reduced === undefined) return;
    target[key] = reduced;
    vetted.add(key);
  };

  if (isTrue(src[LH.SESSION_ROOT])) {
    const kind = str(src[LH.KIND]) ?? 'unknown';
    const verdict = str(src[LH.FINAL_VERDICT]);
    // Spliced, not parsed back: the artifact attribute is JSON the gateway wrote.
    const artifact = str(src[LH.ARTIFACT]);
    const output = `{"final_verdict":${JSON.stringify(verdict ?? null)},"artifact":${artifact !== undefined ? m(artifact) : 'null'}}`;
    const request = sessionRequest(src, m);
    // The trace's input/output are the root's: Langfuse takes a root observation's input and
    // output for its trace when langfuse.trace.input/output are absent (OtelIngestionProcessor),
    // so they are sent once.
    if (request !== undefined) put(attrs, LF.OBSERVATION_INPUT, request);
    if (options.contentCapture) put(attrs, LF.OBSERVATION_OUTPUT, output);
    else setContent(attrs, LF.OBSERVATION_OUTPUT, output, true);
    level =
      verdict === 'infra_error'
        ? 'ERROR'
        : verdict === 'max_iter_exhausted'
          ? 'WARNING'
          : 'DEFAULT';
    trace[LF.TRACE_NAME] = `iterate:${kind}`;
    trace[LF.TRACE_TAGS] = [kind, str(src[LH.PROVIDER]), str(src[LH.MODEL]), verdict].filter(
      (t): t is string => t !== undefined,
    );
    const grounded = src[LH.GROUNDED_IN_ROSTER];
    const metadata = JSON.stringify({
      final_verdict: verdict ?? null,
      iterations: num(src[LH.ITERATIONS]) ?? null,
      max_iterations: num(src[LH.MAX_ITERATIONS]) ?? null,
      grounded_in_roster: typeof grounded === 'boolean' ? grounded : null,
    });
    // On the observation: Langfuse merges a root's observation metadata into its trace's, and a
    // session joining a caller's trace keeps its own verdict.
    put(attrs, LF.OBSERVATION_METADATA, metadata);
  } else if (src[LH.ATTEMPT_VERDICT] !== undefined || src[LH.ATTEMPT_ITERATION] !== undefined) {
    const verdict = str(src[LH.ATTEMPT_VERDICT]);
    level =
      verdict === 'infra_error'
        ? 'ERROR'
        : verdict === undefined || verdict === 'accepted'
          ? 'DEFAULT'
          : 'WARNING';
    const iteration = num(src[LH.ATTEMPT_ITERATION]) ?? null;
    const error = str(src[LH.ATTEMPT_ERROR]);
    // Built from discrete attributes; content fields only while capture is on.
    const model = str(src[LH.MODEL]);
    const provider = str(src[LH.PROVIDER]);
    const input: Record<string, unknown> = {
      iteration,
      model: model !== undefined ? m(model) : null,
      provider: provider !== undefined ? m(provider) : null,
    };
    const prompt = src[LH.ATTEMPT_PROMPT];
    if (options.contentCapture && typeof prompt === 'string') input['prompt'] = m(prompt);
    put(attrs, LF.OBSERVATION_INPUT, JSON.stringify(input));
    vetted.add(LF.OBSERVATION_INPUT);
    const maskedError = error !== undefined ? m(error) : undefined;
    if (verdict !== undefined) {
      const output: Record<string, unknown> = { verdict };
      if (options.contentCapture) {
        const raw = src[LH.ATTEMPT_RAW];
        output['raw'] = typeof raw === 'string' ? m(raw) : null;
      }
      output['error'] = maskedError ?? null;
      put(attrs, LF.OBSERVATION_OUTPUT, JSON.stringify(output));
      vetted.add(LF.OBSERVATION_OUTPUT);
    }
    if (maskedError !== undefined) statusMessage = maskedError;
    put(attrs, LF.OBSERVATION_METADATA, JSON.stringify({ iteration, verdict: verdict ?? null }));
  } else if (src[LH.VALIDATE_KIND] !== undefined || src[LH.VALIDATE_OK] !== undefined) {
    type = 'guardrail';
    const ok = src[LH.VALIDATE_OK];
    level = ok === false || ok === 'false' ? 'WARNING' : 'DEFAULT';
    const kind = str(src[LH.VALIDATE_KIND]);
    setContent(
      attrs,
      LF.OBSERVATION_INPUT,
      kind !== undefined ? JSON.stringify({ kind }) : undefined,
      true,
    );
    setContent(attrs, LF.OBSERVATION_OUTPUT, str(src[LH.VALIDATE_REPORT]), true);
    if (placement.root) trace[LF.TRACE_NAME] = `validate:${kind ?? 'unknown'}`;
  } else if (str(src['gen_ai.operation.name']) !== undefined) {
    type = 'generation';
    const model = str(src['gen_ai.response.model']) ?? str(src['gen_ai.request.model']);
    if (model !== undefined) attrs[LF.OBSERVATION_MODEL] = model;
    const params: Record<string, number> = {};
    const temperature = num(src['gen_ai.request.temperature']);
    const maxTokens = num(src['gen_ai.request.max_tokens']);
    if (temperature !== undefined) params['temperature'] = temperature;
    if (maxTokens !== undefined) params['max_tokens'] = maxTokens;
    put(attrs, LF.OBSERVATION_MODEL_PARAMETERS, JSON.stringify(params));
    const inTokens = num(src['gen_ai.usage.input_tokens']);
    const outTokens = num(src['gen_ai.usage.output_tokens']);
    if (inTokens !== undefined || outTokens !== undefined) {
      const usage: Record<string, number> = {};
      if (inTokens !== undefined) usage['input'] = inTokens;
      if (outTokens !== undefined) usage['output'] = outTokens;
      usage['total'] = (inTokens ?? 0) + (outTokens ?? 0);
      put(attrs, LF.OBSERVATION_USAGE_DETAILS, JSON.stringify(usage));
    }
    const input = str(src['gen_ai.input.messages']);
    // chatd also records the text itself; other producers only the GenAI messages.
    const output = str(src[LH.COMPLETION]) ?? outputMessagesText(src['gen_ai.output.messages']);
    setContent(attrs, LF.OBSERVATION_INPUT, input, false);
    setContent(attrs, LF.OBSERVATION_OUTPUT, output, false);
    const completionStart = str(src[LH.COMPLETION_START_TIME]);
    if (isIsoDate(completionStart)) attrs[LF.OBSERVATION_COMPLETION_START_TIME] = completionStart;
    if (placement.root) {
      trace[LF.TRACE_NAME] = `chat:${str(src['gen_ai.request.model']) ?? model ?? 'unknown'}`;
    }
  } else if (placement.root && src[LF.TRACE_NAME] === undefined) {
    trace[LF.TRACE_NAME] = span.name;
  }

  if (statusError) level = 'ERROR';
  attrs[LF.OBSERVATION_TYPE] = type;
  attrs[LF.OBSERVATION_LEVEL] = level;
  if (statusMessage !== undefined) attrs[LF.OBSERVATION_STATUS_MESSAGE] = statusMessage;
  if (options.environment !== undefined) attrs[LF.ENVIRONMENT] = options.environment;
  if (options.release !== undefined) attrs[LF.RELEASE] = options.release;
  if (placement.root) {
    if (ownsTrace) Object.assign(attrs, trace);
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
    ? maskAttributesInPlace(attrs, options.mask, onMaskError, premasked, memo)
    : sanitizeAttributes(attrs, options.mask, false, onMaskError, vetted, premasked, memo);
  return copySpan(span, attributes, placement.root ? undefined : placement.parent, options, memo);
}

/**
 * The session root's input: the request as JSON, built from the gateway's parts (prompt, system,
 * context, parameters) with every text masked before it is encoded. Undefined without a prompt
 * (content capture off at the producer).
 */
function sessionRequest(src: Attributes, m: (text: string) => string): string | undefined {
  const prompt = str(src[LH.PROMPT]);
  if (prompt === undefined) return undefined;
  const text = (key: string): string => {
    const value = str(src[key]);
    return value === undefined ? 'null' : JSON.stringify(m(value));
  };
  const number = (key: string): string => String(num(src[key]) ?? null);
  const context = str(src[LH.CONTEXT]);
  let json =
    `{"kind":${text(LH.KIND)},"prompt":${JSON.stringify(m(prompt))},"provider":${text(LH.PROVIDER)},` +
    `"model":${text(LH.MODEL)},"context":${context !== undefined ? m(context) : '{}'},` +
    `"max_iterations":${number(LH.MAX_ITERATIONS)},"temperature":${number(LH.TEMPERATURE)},` +
    `"max_tokens":${number(LH.MAX_TOKENS)}`;
  if (str(src[LH.SYSTEM]) !== undefined) json += `,"system":${text(LH.SYSTEM)}`;
  return `${json}}`;
}
