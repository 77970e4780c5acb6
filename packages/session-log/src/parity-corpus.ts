import fc from 'fast-check';

/** One generated parity fixture: its bytes exactly as a probe reads them on stdin. */
export interface CorpusFixture {
  name: string;
  bytes: Buffer;
}

// Characters where encoders are known to differ or to need care.
const HAZARD_CHARS = [
  '\u2028',
  '\u2029',
  '<',
  '>',
  '&',
  '\u0000',
  '\u0007',
  '\b',
  '\f',
  '\n',
  '\r',
  '\t',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u009b',
  '\ufeff',
  '\u200b',
  '\u202e',
  'é',
  'e\u0301',
  '你',
  '😀',
  '"',
  '\\',
  '/',
];

// Number tokens where runtimes differ: fractions of integral values, -0, exponents at the
// notation switch points, integers past 2^53, u64 and i64, f64 overflow and underflow.
const HAZARD_NUMBERS = [
  '0',
  '-0',
  '-0.0',
  '0.0',
  '1.0',
  '100.0',
  '1e+2',
  '1E2',
  '1e21',
  '1e-7',
  '1e-6',
  '1e-5',
  '1e15',
  '1e16',
  '0.1',
  '0.30000000000000004',
  '9007199254740993',
  '12345678901234567891',
  '18446744073709551615',
  '18446744073709551616',
  '-9223372036854775808',
  '-9223372036854775809',
  '123456789012345678901234',
  '1.7976931348623157e308',
  '5e-324',
  '1e400',
  '-1e400',
  '1e-400',
  '2.5e-300',
  '1e999999999999',
  '0e999999999999',
  '-1',
  '42',
];

const HAZARD_KEYS = [
  '__proto__',
  'constructor',
  'toJSON',
  '',
  'a',
  'A',
  'é',
  'e\u0301',
  'ﬁ',
  '😀',
  '\uffff',
  '\u2028',
];

// Any Unicode scalar value (lone surrogates come only from the escapes below, on purpose).
const anyScalar = fc
  .integer({ min: 0, max: 0x10ffff - 0x800 })
  .map((n) => String.fromCodePoint(n < 0xd800 ? n : n + 0x800));

const text = (maxLength: number): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'grapheme', maxLength }) },
    {
      weight: 3,
      arbitrary: fc.array(fc.constantFrom(...HAZARD_CHARS), { maxLength }).map((a) => a.join('')),
    },
    { weight: 1, arbitrary: fc.string({ unit: anyScalar, maxLength }) },
  );

// A string written as JSON text in one of the ways a producer may write it. Lone surrogate
// escapes are valid JSON that serde_json refuses and Go turns into U+FFFD.
const stringToken = (value: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 30, arbitrary: value.map((s) => JSON.stringify(s)) },
    {
      weight: 3,
      arbitrary: value.map(
        (s) => '"' + [...s].map((ch) => [...ch].map(escapeUnits).join('')).join('') + '"',
      ),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(value, fc.constantFrom('\\ud800', '\\udfff', '\\ud83d', '\\ud83dx'))
        .map(([s, lone]) => JSON.stringify(s).slice(0, -1) + lone + '"'),
    },
  );

function escapeUnits(ch: string): string {
  return ch.length === 1 && ch.charCodeAt(0) < 0x80 && ch !== '"' && ch !== '\\' && ch >= ' '
    ? ch
    : [...ch]
        .flatMap((c) => (c.length === 2 ? [c.charCodeAt(0), c.charCodeAt(1)] : [c.charCodeAt(0)]))
        .map((u) => '\\u' + u.toString(16).padStart(4, '0'))
        .join('');
}

const numberToken: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HAZARD_NUMBERS) },
  {
    weight: 2,
    arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => String(d)),
  },
  {
    weight: 1,
    arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => d.toExponential()),
  },
  {
    weight: 1,
    arbitrary: fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }).map((b) => b.toString()),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.stringMatching(/^-?(0|[1-9][0-9]{0,24})$/),
        fc.option(fc.stringMatching(/^[0-9]{1,22}$/)),
        fc.option(fc.integer({ min: -330, max: 330 })),
      )
      .map(
        ([int, frac, exp]) =>
          int + (frac !== null ? '.' + frac : '') + (exp !== null ? 'e' + exp : ''),
      ),
  },
);

const keyToken: fc.Arbitrary<string> = stringToken(
  fc.oneof(fc.constantFrom(...HAZARD_KEYS), fc.string({ unit: 'grapheme', maxLength: 6 })),
);

// Artifact values as JSON text (entries may repeat a key: JSON allows it, encoders differ).
const valueToken: fc.Arbitrary<string> = fc.letrec<{
  value: string;
  object: string;
  array: string;
}>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    stringToken(text(12)),
    numberToken,
    fc.constantFrom('true', 'false', 'null'),
    tie('array'),
    tie('object'),
  ),
  array: fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
  object: fc
    .array(fc.tuple(keyToken, tie('value')), { maxLength: 4 })
    .map((entries) => `{${entries.map(([k, v]) => `${k}:${v}`).join(',')}}`),
})).value;

// Around serde_json's recursion limit (128 containers including the fixture itself).
const deepArtifact: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 120, max: 140 }), fc.boolean(), numberToken)
  .map(([depth, objects, leaf]) =>
    objects
      ? '{"d":'.repeat(depth) + leaf + '}'.repeat(depth)
      : '['.repeat(depth) + leaf + ']'.repeat(depth),
  );

// Past the 256 KiB artifact cap.
const hugeArtifact: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 250_000, max: 270_000 }), fc.constantFrom('x', 'é', '\u2028', '\u0001'))
  .map(
    ([size, ch]) => `{"big":${JSON.stringify(ch.repeat(Math.ceil(size / Buffer.byteLength(ch))))}}`,
  );

const artifactToken: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: valueToken.map((v) => (v.startsWith('{') ? v : `{"v":${v}}`)) },
  { weight: 1, arbitrary: valueToken },
  { weight: 1, arbitrary: deepArtifact },
  { weight: 1, arbitrary: hugeArtifact },
  { weight: 1, arbitrary: fc.constant('{}') },
);

const unsignedToken: fc.Arbitrary<string> = fc.oneof(
  { weight: 60, arbitrary: fc.integer({ min: 0, max: 10 }).map(String) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '-1',
      '4294967296',
      '18446744073709551615',
      '1.0',
      '-0',
      '1e2',
      '9007199254740993',
    ),
  },
);

const labelToken = (common: readonly string[]): fc.Arbitrary<string> =>
  stringToken(
    fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...common) },
      { weight: 2, arbitrary: text(20) },
      { weight: 1, arbitrary: fc.integer({ min: 250, max: 300 }).map((n) => 'é'.repeat(n)) },
    ),
  );

const attemptToken: fc.Arbitrary<string> = fc
  .record({
    iteration: unsignedToken,
    verdict: fc.oneof(
      {
        weight: 30,
        arbitrary: fc.constantFrom(
          '"accepted"',
          '"validation_failed"',
          '"no_json"',
          '"infra_error"',
        ),
      },
      { weight: 1, arbitrary: fc.constantFrom('"won"', '{"no_json":null}') },
    ),
    error: fc.option(
      stringToken(
        fc.oneof(
          text(40),
          fc.integer({ min: 3990, max: 4100 }).map((n) => '😀'.repeat(n)),
          fc.constant(''),
        ),
      ),
    ),
    span: fc.option(stringToken(fc.oneof(fc.constant('00f067aa0ba902b7'), text(8)))),
  })
  .map(({ iteration, verdict, error, span }) => {
    let out = `{"iteration":${iteration},"verdict_kind":${verdict}`;
    if (error !== null) out += `,"error":${error}`;
    if (span !== null) out += `,"span_id":${span}`;
    return out + '}';
  });

const fixtureEntries: fc.Arbitrary<[string, string][]> = fc
  .record({
    session_id: labelToken(['4bf92f3577b34da6a3ce929d0e0e4736']),
    kind: labelToken(['fill', 'email', 'playbook']),
    model: labelToken(['phantom-once', 'gpt-4o-mini']),
    provider: labelToken(['sim', 'openai']),
    prompt: stringToken(
      fc.oneof(
        text(60),
        fc.integer({ min: 3990, max: 4100 }).map((n) => 'a😀'.repeat(n / 2)),
      ),
    ),
    iterations: unsignedToken,
    max_iterations: unsignedToken,
    final_verdict: fc.oneof(
      {
        weight: 30,
        arbitrary: fc.constantFrom('"accepted"', '"max_iter_exhausted"', '"infra_error"'),
      },
      { weight: 1, arbitrary: fc.constantFrom('"won"', '{"accepted":null}') },
    ),
    attempts: fc.oneof(
      {
        weight: 10,
        arbitrary: fc.array(attemptToken, { maxLength: 3 }).map((a) => `[${a.join(',')}]`),
      },
      {
        weight: 1,
        arbitrary: fc.constant(
          `[${Array.from({ length: 101 }, (_, i) => `{"iteration":${i},"verdict_kind":"no_json"}`).join(',')}]`,
        ),
      },
    ),
    artifact: fc.option(
      fc.oneof(
        { weight: 6, arbitrary: artifactToken },
        { weight: 1, arbitrary: fc.constant('null') },
      ),
      { freq: 4 },
    ),
    grounded_in_roster: fc.option(
      fc.oneof(
        { weight: 20, arbitrary: fc.constantFrom('true', 'false', 'null') },
        { weight: 1, arbitrary: fc.constant('1') },
      ),
      { freq: 5 },
    ),
    duration_ms: fc.oneof(
      { weight: 40, arbitrary: fc.integer({ min: 0, max: 100_000 }).map(String) },
      {
        weight: 1,
        arbitrary: fc.constantFrom('18446744073709551615', '9223372036854775808', '-5', '1.5'),
      },
    ),
  })
  .map((fields) =>
    Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== null),
  );

// Key shapes: an unknown key (any value, also ones serde_json would refuse if it read them),
// a repeated known key, a key in another case (Go matches struct fields case-insensitively).
const keyShape = fc.oneof(
  { weight: 12, arbitrary: fc.constant(undefined) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('note', 'schema', 'timestamp', 'x-extra'),
        fc.oneof(valueToken, deepArtifact),
      )
      .map(([k, v]) => ({ add: [k, v] as [string, string] })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('kind', 'prompt', 'iterations').map((k) => ({ repeat: k })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('Kind', 'PROMPT', 'Session_Id')
      .map((k) => ({ add: [k, '"other"'] as [string, string] })),
  },
);

/** Arbitrary parity fixture bytes: mostly valid, with every hazard the corpus looks for. */
const corpusFixture: fc.Arbitrary<Buffer> = fc
  .tuple(
    fixtureEntries,
    keyShape,
    fc.constantFrom('', ' ', '\n  '),
    fc.integer({ min: 0, max: 40 }),
  )
  .map(([entries, shape, space, corrupt]) => {
    const all = [...entries];
    if (shape !== undefined && 'add' in shape) all.splice(1, 0, shape.add);
    if (shape !== undefined && 'repeat' in shape) {
      const found = all.find(([k]) => k === shape.repeat);
      if (found !== undefined) all.push(found);
    }
    const json = `{${space}${all.map(([k, v]) => `${JSON.stringify(k)}:${space}${v}`).join(`,${space}`)}${space}}`;
    const bytes = Buffer.from(json, 'utf8');
    // One fixture in 40: a raw 0xFF byte (invalid UTF-8) inside the prompt string.
    if (corrupt === 0) {
      const at = bytes.indexOf('"prompt":');
      const inside = at < 0 ? -1 : bytes.indexOf('"', at + 9) + 1;
      if (inside > 0) {
        return Buffer.concat([
          bytes.subarray(0, inside),
          Buffer.from([0xff]),
          bytes.subarray(inside),
        ]);
      }
    }
    return bytes;
  });

/** `count` fixtures from `seed`, deterministic: the same seed always gives the same corpus. */
export function generateCorpus(count: number, seed: number): CorpusFixture[] {
  return fc.sample(corpusFixture, { numRuns: count, seed }).map((bytes, i) => ({
    name: `corpus-${String(i + 1).padStart(4, '0')}`,
    bytes,
  }));
}
