// Shared fast-check arbitraries for hostile input (test-only): sizes, depths, unicode, control and escape
// characters, and credential shapes. Property tests across the repo draw from these.
import fc from 'fast-check';

/** Characters that break naive handling: controls, terminal escapes, quotes, JSON/regex metas. */
const NASTY_CHARACTERS = [
  '\u0000',
  '\u0007',
  '\b',
  '\t',
  '\n',
  '\r',
  '\u001b',
  '\u001b[2J',
  '\u001b]52;c;aGk=\u0007',
  '\u007f',
  '\u0085',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\ud800',
  '\udfff',
  '"',
  "'",
  '\\',
  '\\"',
  '\\n',
  '<',
  '>',
  '&',
  '{',
  '}',
  '[',
  ']',
  ':',
  '=',
  ',',
  ';',
  '%',
  '$',
  '*',
  '.',
  '/',
  ' ',
  'é',
  'ß',
  '中',
  '😀',
  '👩‍👩‍👧',
  'e\u0301',
] as const;

/** Short hostile text: any code units, graphemes, or a mix of the nasty characters above. */
export const hostileText = (maxLength = 64): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.string({ unit: fc.constantFrom(...NASTY_CHARACTERS), maxLength }),
    fc.string({ maxLength }),
  );

/** A long value: one character (possibly multi-unit) repeated up to `maxLength` code units. */
const hugeText = (minLength: number, maxLength: number): fc.Arbitrary<string> =>
  fc
    .tuple(
      fc.constantFrom('a', ' ', '中', '😀', '\u0000', '"', '\\', 'e\u0301'),
      fc.integer({ min: minLength, max: maxLength }),
    )
    .map(([ch, n]) => ch.repeat(Math.max(1, Math.ceil(n / ch.length))).slice(0, n));

/** Hostile text of any size: usually short, sometimes far past every cap. */
export const anySizeText = (maxLength = 300_000): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: hostileText() },
    { weight: 1, arbitrary: hugeText(1, maxLength) },
  );

/** A JSON value nested `depth` levels (arrays and objects alternating). */
export function nested(depth: number, leaf: unknown = 1): unknown {
  let value: unknown = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { k: value };
  return value;
}

/** A credential and the label of its shape, e.g. `{shape: 'groq', secret: 'gsk_…'}`. */
export interface SecretSample {
  shape: string;
  secret: string;
}

const alnum = (min: number, max: number): string => `[A-Za-z0-9]{${min},${max}}`;
const shape = (name: string, pattern: string): fc.Arbitrary<SecretSample> =>
  fc.stringMatching(new RegExp(`^${pattern}$`)).map((secret) => ({ shape: name, secret }));

/** Common API key and token shapes, each with random contents. */
export const secretShapes: fc.Arbitrary<SecretSample> = fc.oneof(
  shape('openai', `sk-(proj-|ant-api03-|or-v1-)?[A-Za-z0-9_-]{20,48}`),
  shape('langfuse', `[ps]k-lf-[a-f0-9-]{12,36}`),
  shape('groq', `gsk_${alnum(40, 52)}`),
  shape('google', `AIza[0-9A-Za-z_-]{35}`),
  shape('github', `gh[pousr]_${alnum(36, 40)}`),
  shape('github-pat', `github_pat_[A-Za-z0-9_]{40,82}`),
  shape('aws', `(AKIA|ASIA)[0-9A-Z]{16}`),
  shape('jwt', `eyJ[A-Za-z0-9_-]{12,40}\\.eyJ[A-Za-z0-9_-]{8,60}\\.[A-Za-z0-9_-]{16,43}`),
  shape('huggingface', `hf_${alnum(34, 40)}`),
  shape('slack', `xox[bp]-[0-9]{10,13}-[A-Za-z0-9]{16,24}`),
);

/** A credential-like value for `name: value` pairs: printable, unique enough to grep for. */
export const credentialValue: fc.Arbitrary<string> = fc
  .stringMatching(/^[A-Za-z0-9!#$%*+./?@^_~-]{6,40}$/)
  .map((v) => `Zq${v}`);

/** A credential value that may hold spaces and quotes (only valid where it is quoted/encoded). */
export const quotedCredentialValue: fc.Arbitrary<string> = fc
  .stringMatching(/^[A-Za-z0-9 !#$%*+./?@^_~'"\\-]{6,40}$/)
  .map((v) => `Zq${v}`);

/** Names whose values are credentials, in the spellings configs and headers use. */
export const credentialName: fc.Arbitrary<string> = fc.constantFrom(
  'api_key',
  'apiKey',
  'x-api-key',
  'OPENAI_API_KEY',
  'access_token',
  'refresh_token',
  'client_secret',
  'aws_secret_access_key',
  'password',
  'passwd',
  'secret',
  'token',
  'github_token',
  'Authorization',
);

/** Wraps `text` in 0–2 layers of JSON string encoding (how span attributes carry messages). */
export const jsonLayers = (text: string, layers: number): string => {
  let out = text;
  for (let i = 0; i < layers; i++) out = JSON.stringify(out);
  return out;
};
