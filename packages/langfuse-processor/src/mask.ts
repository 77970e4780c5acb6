import type { AttributeValue, Attributes } from '@opentelemetry/api';

/** What masked secrets are replaced with. */
export const REDACTED = '[REDACTED]';

// Names whose value is a credential: `name: value`, `name=value`, `"name": "value"`, also inside
// the JSON strings span attributes are (`\"name\": \"value\"`). Matched anywhere in a longer
// name (OPENAI_API_KEY, x-api-key, github_token), but never when followed by more name
// characters (max_tokens, token_type).
const CREDENTIAL_NAMES = String.raw`authorization|api[_-]?key|apikey|access[_-]?token|refresh[_-]?token|id[_-]?token|auth[_-]?token|session[_-]?token|client[_-]?secret|secret[_-]?access[_-]?key|secret[_-]?key|private[_-]?key|password|passwd|passphrase|secret|token`;
// Name, optional closing quote of a quoted name (possibly JSON-escaped), separator, and the
// value's opening quote (group 1: backslashes, group 2: the quote) when it is quoted.
const CREDENTIAL_START = new RegExp(
  String.raw`(?:${CREDENTIAL_NAMES})(?:\\*["'])?[ \t]*[:=][ \t]*(?:(\\*)(["']))?`,
  'gi',
);
// An unquoted value: an optional auth scheme, then everything up to a delimiter.
const BARE_VALUE = /(?:(?:bearer|basic|token|digest|apikey)[ \t]+)?[^\s"',;&}\]\\<>]+/iy;
// A quoted value longer than this is not a credential; the scan stops there.
const MAX_QUOTED_VALUE = 1024;

// Tokens after an auth scheme outside a name/value pair (`curl -H "x: Bearer …"`): only values
// that look like tokens (16+ characters with a digit, or 32+), so "bearer of news" survives.
const SCHEME_TOKEN =
  /\b(bearer|token)([ \t]+)(?:(?=[A-Za-z0-9._~+/-]*\d)[A-Za-z0-9._~+/-]{16,}|[A-Za-z0-9._~+/-]{32,})=*/gi;
// Basic credentials are base64 of `user:password`, often short: decoded and checked instead.
const BASIC_TOKEN = /\b(basic)([ \t]+)([A-Za-z0-9+/]{4,512}={0,2})(?![A-Za-z0-9+/=])/gi;

// Passwords in URLs: scheme://user:password@host. The guard and the bounded scheme keep the scan
// linear on long runs of letters.
const URL_PASSWORD =
  /((?<![a-z0-9+.-])[a-z][a-z0-9+.-]{0,31}:\/\/[^\s/?#@:"'\\]{0,256}:)([^\s/?#@"'\\]{1,256})@/gi;

// Well-known key shapes, wherever they stand: after a non-name character or a JSON escape
// (`\n` before a key inside a serialised message).
const KEY_SHAPES = new RegExp(
  String.raw`(?:(?<![A-Za-z0-9_])|(?<=\\[nrtbf]))(?:` +
    [
      String.raw`-----BEGIN[A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END[A-Z ]*PRIVATE KEY-----|$)`,
      String.raw`[ps]k-lf-[A-Za-z0-9-]{6,}`, // Langfuse project keys
      String.raw`sk-[A-Za-z0-9_-]{16,}`, // OpenAI, Anthropic (sk-ant-), OpenRouter (sk-or-)
      String.raw`gsk_[A-Za-z0-9]{20,}`, // Groq
      String.raw`AIza[0-9A-Za-z_-]{30,}`, // Google API keys
      String.raw`gh[pousr]_[A-Za-z0-9]{30,}`, // GitHub tokens
      String.raw`github_pat_[A-Za-z0-9_]{30,}`,
      String.raw`(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}(?![0-9A-Z])`, // AWS access key ids
      String.raw`eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*`, // JWTs
      String.raw`xox[abposr]-[A-Za-z0-9-]{10,}`, // Slack
      String.raw`hf_[A-Za-z0-9]{30,}`, // Hugging Face
      String.raw`(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}`, // Stripe
    ].join('|') +
    ')',
  'g',
);

// Every match of the patterns above contains one of these (a superset: it only skips clean values).
const MAY_HOLD_SECRET =
  /authorization|api[_-]?key|apikey|token|secret|passw|passphrase|private|bearer|basic|k-lf-|sk-|sk_|rk_|pk_|gsk_|aiza|gh[pousr]_|github_pat_|akia|asia|abia|acca|eyj|xox|hf_|:\/\//i;

// Attribute names whose whole string value is a credential (e.g. http.request.header.authorization).
const SECRET_ATTRIBUTE_NAME =
  /(?:^|[._-])(?:authorization|proxy-authorization|cookie|set-cookie|x-api-key|api[_-]?key|password|secret|access[_-]?token)$/i;

// Index of the quote closing a value opened by `backslashes` backslashes + `quote` at `from`, or -1.
// A quote closes the value when the backslashes before it are the opener's escaping level: at
// level n, the closer has 2^n - 1 backslashes modulo 2^(n+1) (0 → even, 1 → 1, 5, …).
function closingQuote(text: string, from: number, backslashes: number, quote: string): number {
  const level = Math.min(backslashes, 3);
  const period = 2 ** (level + 1);
  const want = 2 ** level - 1;
  const limit = Math.min(text.length, from + MAX_QUOTED_VALUE);
  for (let i = text.indexOf(quote, from); i !== -1 && i < limit; i = text.indexOf(quote, i + 1)) {
    let k = 0;
    while (i - k - 1 >= from && text.charCodeAt(i - k - 1) === 92) k++;
    if (k % period === want) return i - want;
  }
  return -1;
}

function maskCredentialValues(text: string): string {
  let out = '';
  let last = 0;
  CREDENTIAL_START.lastIndex = 0;
  for (let m = CREDENTIAL_START.exec(text); m !== null; m = CREDENTIAL_START.exec(text)) {
    const valueStart = m.index + m[0].length;
    let valueEnd = -1;
    if (m[2] !== undefined) valueEnd = closingQuote(text, valueStart, m[1]?.length ?? 0, m[2]);
    if (valueEnd === -1) {
      BARE_VALUE.lastIndex = valueStart;
      const bare = BARE_VALUE.exec(text);
      valueEnd = bare === null ? valueStart : valueStart + bare[0].length;
    }
    if (valueEnd <= valueStart) continue;
    out += text.slice(last, valueStart) + REDACTED;
    last = valueEnd;
    CREDENTIAL_START.lastIndex = valueEnd;
  }
  return last === 0 ? text : out + text.slice(last);
}

function looksLikeBasicCredentials(token: string): boolean {
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  // user:password, printable; random prose decodes to binary noise.
  if (!decoded.includes(':')) return false;
  for (let i = 0; i < decoded.length; i++) {
    const c = decoded.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0xfffd) return false;
  }
  return true;
}

/**
 * Default mask: replaces credentials with `[REDACTED]`: values of credential names (api_key,
 * password, Authorization, … also JSON-quoted and inside serialised JSON), tokens after
 * Bearer/Basic, URL passwords, and well-known key shapes (OpenAI/Anthropic `sk-`, Langfuse,
 * Groq `gsk_`, Google `AIza…`, GitHub `ghp_…`, AWS `AKIA…`, JWTs, Slack, Hugging Face, Stripe,
 * PEM private keys). A pure function of its input; idempotent.
 */
export function defaultMask(value: string): string {
  // Most values hold no secret: one scan for anything a pattern could match.
  if (!MAY_HOLD_SECRET.test(value)) return value;
  let out = maskCredentialValues(value);
  out = out.replace(URL_PASSWORD, `$1${REDACTED}@`);
  out = out.replace(SCHEME_TOKEN, `$1$2${REDACTED}`);
  out = out.replace(BASIC_TOKEN, (whole, scheme: string, gap: string, token: string) =>
    looksLikeBasicCredentials(token) ? `${scheme}${gap}${REDACTED}` : whole,
  );
  return out.replace(KEY_SHAPES, REDACTED);
}

/** True when an attribute's name says its whole value is a credential (`…authorization`, `…api_key`). */
function isSecretAttributeName(key: string): boolean {
  return SECRET_ATTRIBUTE_NAME.test(key);
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

// Attribute names are few and fixed by code: remember the answer (bounded, in case they are not).
const secretNames = new Map<string, boolean>();
function secretName(key: string): boolean {
  let secret = secretNames.get(key);
  if (secret === undefined) {
    secret = isSecretAttributeName(key);
    if (secretNames.size < 4096) secretNames.set(key, secret);
  }
  return secret;
}

/**
 * Returns a new attribute map with content capture and masking applied to every string value
 * (string arrays included): with capture off, content-keyed attributes are dropped unless listed
 * in `vetted` (already reduced by the caller). Keys in `premasked` were built from masked texts
 * and pass as they are; `memo` masks each distinct long text once. Never mutates `attributes`;
 * mask errors redact fully.
 */
export function sanitizeAttributes(
  attributes: Attributes,
  mask: (value: string) => string,
  contentCapture: boolean,
  onMaskError: (err: unknown) => void,
  vetted: ReadonlySet<string> = new Set(),
  premasked: ReadonlySet<string> = new Set(),
  memo: Map<string, string> = new Map(),
): Attributes {
  const out: Attributes = {};
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined) continue;
    if (!contentCapture && isContentKey(key) && !vetted.has(key)) continue;
    if ((typeof value !== 'string' && !Array.isArray(value)) || premasked.has(key)) {
      out[key] = value;
      continue;
    }
    out[key] =
      typeof value === 'string' && secretName(key)
        ? REDACTED
        : maskValue(value, mask, onMaskError, memo);
  }
  return out;
}

// Long texts are remembered per span (the caller's memo); short ones, which repeat across spans
// (a kind, a model name, a verdict), per mask function. A mask is a pure string function.
const MEMO_MIN_LENGTH = 256;
const SHORT_CACHE_LIMIT = 8192;
const shortCaches = new WeakMap<(value: string) => string, Map<string, string>>();

function maskShort(
  value: string,
  mask: (value: string) => string,
  onMaskError: (err: unknown) => void,
): string {
  let cache = shortCaches.get(mask);
  if (cache === undefined) {
    cache = new Map();
    shortCaches.set(mask, cache);
  }
  let masked = cache.get(value);
  if (masked === undefined) {
    let failed = false;
    masked = safeMask(value, mask, (err) => {
      failed = true;
      onMaskError(err);
    });
    // A failure is reported each time, never cached.
    if (!failed) {
      if (cache.size >= SHORT_CACHE_LIMIT) cache.clear();
      cache.set(value, masked);
    }
  }
  return masked;
}

/**
 * {@link sanitizeAttributes} with content capture on, applied to `attributes` itself (an object
 * the caller owns and has just built): masks every string value not in `premasked`; returns it.
 */
export function maskAttributesInPlace(
  attributes: Attributes,
  mask: (value: string) => string,
  onMaskError: (err: unknown) => void,
  premasked: ReadonlySet<string>,
  memo: Map<string, string>,
): Attributes {
  for (const key in attributes) {
    const value = attributes[key];
    if ((typeof value !== 'string' && !Array.isArray(value)) || premasked.has(key)) continue;
    attributes[key] =
      typeof value === 'string' && secretName(key)
        ? REDACTED
        : maskValue(value, mask, onMaskError, memo);
  }
  return attributes;
}

/** Masks one attribute value (strings and string arrays); other types pass through. `memo` reuses results for equal texts. */
export function maskValue(
  value: AttributeValue,
  mask: (value: string) => string,
  onMaskError: (err: unknown) => void,
  memo?: Map<string, string>,
): AttributeValue {
  if (typeof value === 'string') {
    if (value.length < MEMO_MIN_LENGTH) return maskShort(value, mask, onMaskError);
    if (memo === undefined) return safeMask(value, mask, onMaskError);
    let masked = memo.get(value);
    if (masked === undefined) {
      masked = safeMask(value, mask, onMaskError);
      memo.set(value, masked);
    }
    return masked;
  }
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
