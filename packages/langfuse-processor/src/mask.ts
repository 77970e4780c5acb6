import type { AttributeValue, Attributes } from '@opentelemetry/api';

/** What masked secrets are replaced with. */
export const REDACTED = '[REDACTED]';

// Order matters: a whole `Authorization: Bearer x` value goes first, then bare tokens.
const SECRET_PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  // Authorization header values, with or without a scheme, in headers, JSON or prose.
  [
    /(authorization["']?\s*[:=]\s*["']?)(?:(?:bearer|basic|token)\s+)?[^\s"',;}]+/gi,
    `$1${REDACTED}`,
  ],
  // key=value / "key": "value" credentials (api_key, x-api-key, access_token, password, ...).
  [
    /((?:api[_-]?key|apikey|access[_-]?token|refresh[_-]?token|client[_-]?secret|secret[_-]?key|password|passwd)["']?\s*[:=]\s*["']?)[^\s"',;&}]+/gi,
    `$1${REDACTED}`,
  ],
  // Token-looking values only (16+ chars with a digit), so prose like "basic information" survives.
  [/\b(bearer|basic)\s+(?=[A-Za-z0-9._~+/-]*\d)[A-Za-z0-9._~+/-]{16,}=*/gi, `$1 ${REDACTED}`],
  // Langfuse project keys.
  [/\b[ps]k-lf-[A-Za-z0-9-]{6,}/g, REDACTED],
  // OpenAI-style secret keys (sk-..., sk-proj-..., sk-ant-...).
  [/\bsk-[A-Za-z0-9_-]{16,}/g, REDACTED],
];

// Every match of SECRET_PATTERNS contains one of these (a superset: it only skips clean values).
const MAY_HOLD_SECRET =
  /authorization|api[_-]?key|apikey|access[_-]?token|refresh[_-]?token|client[_-]?secret|secret[_-]?key|passw|bearer|basic|k-lf-|sk-/i;

/**
 * Default mask: replaces obvious secrets (OpenAI-style `sk-` keys, Langfuse `pk-lf-`/`sk-lf-`
 * keys, Bearer/Basic tokens, Authorization and api_key-style values) with `[REDACTED]`. Pure.
 */
export function defaultMask(value: string): string {
  // Most values hold no secret: one scan for anything a pattern could match, instead of five.
  if (!MAY_HOLD_SECRET.test(value)) return value;
  let out = value;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

// Attribute key segments that hold prompt/response text; matched on the key's last segment.
const CONTENT_SEGMENTS = new Set([
  'input',
  'output',
  'messages',
  'message',
  'prompt',
  'prompts',
  'raw',
  'request',
  'artifact',
  'completion',
  'content',
  'body',
  'text',
  'system_instructions',
]);
const CONTENT_PREFIXES = ['gen_ai.prompt.', 'gen_ai.completion.'];
// Fields removed from structured (JSON object) values: the content segments plus system prompts.
const CONTENT_FIELDS = new Set([...CONTENT_SEGMENTS, 'system']);

/** True when an attribute key names prompt/response text (content capture decides its fate). */
export function isContentKey(key: string): boolean {
  if (CONTENT_PREFIXES.some((p) => key.startsWith(p))) return true;
  const last = key.slice(key.lastIndexOf('.') + 1).toLowerCase();
  return CONTENT_SEGMENTS.has(last);
}

function stripContentFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripContentFields);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (CONTENT_FIELDS.has(k.toLowerCase())) continue;
    out[k] = stripContentFields(v);
  }
  return out;
}

/**
 * Content capture off, for a structured value known to wrap content (e.g. an attempt's
 * `{iteration, model, prompt}`): the JSON object without its text fields (prompt, raw, messages,
 * artifact, ...), or undefined when nothing is left or the value is not a JSON object.
 */
export function redactContentValue(value: AttributeValue): AttributeValue | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trimStart();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
    const kept = stripContentFields(parsed) as Record<string, unknown>;
    return Object.keys(kept).length > 0 ? JSON.stringify(kept) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Returns a new attribute map with content capture and masking applied to every string value
 * (string arrays included): with capture off, content-keyed attributes are dropped unless listed
 * in `vetted` (already reduced by the caller). Never mutates `attributes`; mask errors redact fully.
 */
export function sanitizeAttributes(
  attributes: Attributes,
  mask: (value: string) => string,
  contentCapture: boolean,
  onMaskError: (err: unknown) => void,
  vetted: ReadonlySet<string> = new Set(),
): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    if (!contentCapture && isContentKey(key) && !vetted.has(key)) continue;
    out[key] = maskValue(value, mask, onMaskError);
  }
  return out;
}

/** Masks one attribute value (strings and string arrays); other types pass through. */
export function maskValue(
  value: AttributeValue,
  mask: (value: string) => string,
  onMaskError: (err: unknown) => void,
): AttributeValue {
  if (typeof value === 'string') return safeMask(value, mask, onMaskError);
  if (Array.isArray(value)) {
    return (value as Array<unknown>).map((v) =>
      typeof v === 'string' ? safeMask(v, mask, onMaskError) : v,
    ) as AttributeValue;
  }
  return value;
}

function safeMask(
  value: string,
  mask: (value: string) => string,
  onError: (err: unknown) => void,
): string {
  try {
    const masked = mask(value);
    return typeof masked === 'string' ? masked : REDACTED;
  } catch (err) {
    onError(err);
    return REDACTED;
  }
}
