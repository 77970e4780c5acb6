// The observation kinds the translator knows, each built from the attributes its producer
// wrote (the `lakehouse.*` vocabulary and the GenAI conventions): session root, attempt,
// guardrail, generation, or a plain span.
import type { AttributeValue, Attributes } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { LAKEHOUSE_ATTRIBUTES as LH, LANGFUSE_ATTRIBUTES as LF } from './attributes.js';
import type { ObservationLevel, ObservationType } from './attributes.js';
import type { CopyOptions } from './copy-span.js';
import { maskValue, redactContentValue } from './mask.js';

function parseJson(value: AttributeValue | undefined): unknown {
  if (typeof value !== 'string') return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

export function str(value: AttributeValue | undefined): string | undefined {
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

/** What one observation kind contributes besides its attributes. */
export interface Observation {
  readonly type: ObservationType;
  readonly level: ObservationLevel;
  /** Trace-level attributes, set only when the span is its trace's root. */
  readonly trace?: Attributes;
  /** Replaces the span's status message (already masked). */
  readonly statusMessage?: string;
}

/**
 * The attributes one translation builds, and how each was made: masked here once (premasked),
 * or reduced to its non-text fields with capture off (vetted). The observation builders below
 * write through it.
 */
export class Translation {
  readonly attrs: Attributes;
  // With capture off, structured wrappers keep their non-text fields; free text is dropped.
  readonly vetted = new Set<string>();
  // Values built here from masked texts and our own numbers and names: not masked again. Texts
  // are masked once each, before they are encoded into the JSON wrappers (a wrapper key such as
  // max_tokens would otherwise send the whole request through every pattern).
  readonly premasked = new Set<string>();
  readonly memo = new Map<string, string>();
  readonly onMaskError: (err: unknown) => void;

  readonly options: CopyOptions;

  constructor(attrs: Attributes, options: CopyOptions) {
    this.attrs = attrs;
    this.options = options;
    this.onMaskError = options.onMaskError ?? (() => undefined);
  }

  /** `text` through the mask (memoised per span). */
  mask(text: string): string {
    return maskValue(text, this.options.mask, this.onMaskError, this.memo) as string;
  }

  /** Sets a value built from masked parts: it is not masked again. */
  put(key: string, value: string): void {
    this.attrs[key] = value;
    this.premasked.add(key);
  }

  /** Sets content: as is with capture on; off, a structured value keeps its non-text fields only. */
  content(key: string, value: string | undefined, structured: boolean): void {
    if (value === undefined) return;
    if (this.options.contentCapture) {
      this.attrs[key] = value;
      return;
    }
    const reduced = structured ? redactContentValue(value) : undefined;
    if (reduced === undefined) return;
    this.attrs[key] = reduced;
    this.vetted.add(key);
  }
}

/** The gateway's iterate span: the session root, with the request in and the verdict out. */
function sessionRoot(src: Attributes, t: Translation): Observation {
  const kind = str(src[LH.KIND]) ?? 'unknown';
  const verdict = str(src[LH.FINAL_VERDICT]);
  // Spliced, not parsed back: the artifact attribute is JSON the gateway wrote.
  const artifact = str(src[LH.ARTIFACT]);
  const output = `{"final_verdict":${JSON.stringify(verdict ?? null)},"artifact":${artifact !== undefined ? t.mask(artifact) : 'null'}}`;
  const request = sessionRequest(src, (text) => t.mask(text));
  // The trace's input/output are the root's: Langfuse takes a root observation's input and
  // output for its trace when langfuse.trace.input/output are absent (OtelIngestionProcessor),
  // so they are sent once.
  if (request !== undefined) t.put(LF.OBSERVATION_INPUT, request);
  if (t.options.contentCapture) t.put(LF.OBSERVATION_OUTPUT, output);
  else t.content(LF.OBSERVATION_OUTPUT, output, true);
  const grounded = src[LH.GROUNDED_IN_ROSTER];
  // On the observation: Langfuse merges a root's observation metadata into its trace's, and a
  // session joining a caller's trace keeps its own verdict.
  t.put(
    LF.OBSERVATION_METADATA,
    JSON.stringify({
      final_verdict: verdict ?? null,
      iterations: num(src[LH.ITERATIONS]) ?? null,
      max_iterations: num(src[LH.MAX_ITERATIONS]) ?? null,
      grounded_in_roster: typeof grounded === 'boolean' ? grounded : null,
    }),
  );
  return {
    type: 'span',
    level:
      verdict === 'infra_error'
        ? 'ERROR'
        : verdict === 'max_iter_exhausted'
          ? 'WARNING'
          : 'DEFAULT',
    trace: {
      [LF.TRACE_NAME]: `iterate:${kind}`,
      [LF.TRACE_TAGS]: [kind, str(src[LH.PROVIDER]), str(src[LH.MODEL]), verdict].filter(
        (tag): tag is string => tag !== undefined,
      ),
    },
  };
}

/** One attempt of the loop: its prompt in, its verdict (and raw reply) out. */
function attempt(src: Attributes, t: Translation): Observation {
  const verdict = str(src[LH.ATTEMPT_VERDICT]);
  const iteration = num(src[LH.ATTEMPT_ITERATION]) ?? null;
  const error = str(src[LH.ATTEMPT_ERROR]);
  // Built from discrete attributes; content fields only while capture is on.
  const model = str(src[LH.MODEL]);
  const provider = str(src[LH.PROVIDER]);
  const input: Record<string, unknown> = {
    iteration,
    model: model !== undefined ? t.mask(model) : null,
    provider: provider !== undefined ? t.mask(provider) : null,
  };
  const prompt = src[LH.ATTEMPT_PROMPT];
  if (t.options.contentCapture && typeof prompt === 'string') input['prompt'] = t.mask(prompt);
  t.put(LF.OBSERVATION_INPUT, JSON.stringify(input));
  t.vetted.add(LF.OBSERVATION_INPUT);
  const maskedError = error !== undefined ? t.mask(error) : undefined;
  if (verdict !== undefined) {
    const output: Record<string, unknown> = { verdict };
    if (t.options.contentCapture) {
      const raw = src[LH.ATTEMPT_RAW];
      output['raw'] = typeof raw === 'string' ? t.mask(raw) : null;
    }
    output['error'] = maskedError ?? null;
    t.put(LF.OBSERVATION_OUTPUT, JSON.stringify(output));
    t.vetted.add(LF.OBSERVATION_OUTPUT);
  }
  t.put(LF.OBSERVATION_METADATA, JSON.stringify({ iteration, verdict: verdict ?? null }));
  return {
    type: 'span',
    level:
      verdict === 'infra_error'
        ? 'ERROR'
        : verdict === undefined || verdict === 'accepted'
          ? 'DEFAULT'
          : 'WARNING',
    ...(maskedError !== undefined ? { statusMessage: maskedError } : {}),
  };
}

/** The validate hop's span: a guardrail with the validation report as output. */
function guardrail(src: Attributes, t: Translation): Observation {
  const ok = src[LH.VALIDATE_OK];
  const kind = str(src[LH.VALIDATE_KIND]);
  t.content(LF.OBSERVATION_INPUT, kind !== undefined ? JSON.stringify({ kind }) : undefined, true);
  t.content(LF.OBSERVATION_OUTPUT, str(src[LH.VALIDATE_REPORT]), true);
  return {
    type: 'guardrail',
    level: ok === false || ok === 'false' ? 'WARNING' : 'DEFAULT',
    trace: { [LF.TRACE_NAME]: `validate:${kind ?? 'unknown'}` },
  };
}

/** A GenAI client span (chatd's chat call): a generation with model, parameters and usage. */
function generation(src: Attributes, t: Translation): Observation {
  const model = str(src['gen_ai.response.model']) ?? str(src['gen_ai.request.model']);
  if (model !== undefined) t.attrs[LF.OBSERVATION_MODEL] = model;
  const params: Record<string, number> = {};
  const temperature = num(src['gen_ai.request.temperature']);
  const maxTokens = num(src['gen_ai.request.max_tokens']);
  if (temperature !== undefined) params['temperature'] = temperature;
  if (maxTokens !== undefined) params['max_tokens'] = maxTokens;
  t.put(LF.OBSERVATION_MODEL_PARAMETERS, JSON.stringify(params));
  const inTokens = num(src['gen_ai.usage.input_tokens']);
  const outTokens = num(src['gen_ai.usage.output_tokens']);
  if (inTokens !== undefined || outTokens !== undefined) {
    const usage: Record<string, number> = {};
    if (inTokens !== undefined) usage['input'] = inTokens;
    if (outTokens !== undefined) usage['output'] = outTokens;
    usage['total'] = (inTokens ?? 0) + (outTokens ?? 0);
    t.put(LF.OBSERVATION_USAGE_DETAILS, JSON.stringify(usage));
  }
  // chatd also records the text itself; other producers only the GenAI messages.
  const output = str(src[LH.COMPLETION]) ?? outputMessagesText(src['gen_ai.output.messages']);
  t.content(LF.OBSERVATION_INPUT, str(src['gen_ai.input.messages']), false);
  t.content(LF.OBSERVATION_OUTPUT, output, false);
  const completionStart = str(src[LH.COMPLETION_START_TIME]);
  if (isIsoDate(completionStart)) t.attrs[LF.OBSERVATION_COMPLETION_START_TIME] = completionStart;
  return {
    type: 'generation',
    level: 'DEFAULT',
    trace: { [LF.TRACE_NAME]: `chat:${str(src['gen_ai.request.model']) ?? model ?? 'unknown'}` },
  };
}

/** Which kind of observation a span is, from the attributes its producer wrote. */
export function observe(span: ReadableSpan, t: Translation): Observation {
  const src = span.attributes;
  if (isTrue(src[LH.SESSION_ROOT])) return sessionRoot(src, t);
  if (src[LH.ATTEMPT_VERDICT] !== undefined || src[LH.ATTEMPT_ITERATION] !== undefined) {
    return attempt(src, t);
  }
  if (src[LH.VALIDATE_KIND] !== undefined || src[LH.VALIDATE_OK] !== undefined) {
    return guardrail(src, t);
  }
  if (str(src['gen_ai.operation.name']) !== undefined) return generation(src, t);
  // Any other span keeps its own name as a root's trace name unless it set one itself.
  return {
    type: 'span',
    level: 'DEFAULT',
    ...(src[LF.TRACE_NAME] === undefined ? { trace: { [LF.TRACE_NAME]: span.name } } : {}),
  };
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
