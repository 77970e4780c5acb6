import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import {
  MAX_PROMPT_CODE_POINTS,
  SESSION_RECORD_SCHEMA,
  compareCodePoints,
  encodeSessionRecord,
  formatSessionTimestamp,
  parseSessionFixture,
  ARTIFACT_DEPTH_MARKER,
  stripTopLevelKeys,
  truncateCodePoints,
} from '../src/index.js';
import type { SessionRecord } from '../src/index.js';
import { EXPECTED_DIR, FIXTURES_DIR, SCHEMA_PATH } from './helpers.js';

const PINNED = '2026-01-01T00:00:00+00:00';

function base(overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    sessionId: '4bf92f3577b34da6a3ce929d0e0e4736',
    timestamp: '2026-05-02T07:30:00.123456Z',
    daemon: 'gateway',
    kind: 'fill',
    model: 'clean',
    provider: 'sim',
    prompt: 'p',
    iterations: 1,
    maxIterations: 3,
    finalVerdict: 'max_iter_exhausted',
    attempts: [],
    groundedInRoster: null,
    durationMs: 5,
    ...overrides,
  };
}

const ajv = new Ajv2020({ allErrors: true });
const validateRow = ajv.compile(JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as object);

const fixtureNames = readdirSync(FIXTURES_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length))
  .sort();

describe('golden bytes (hand-written expected rows)', () => {
  it('has the fixtures the issue asks for', () => {
    for (const name of [
      'accepted_grounded',
      'max_iter_exhausted',
      'infra_error',
      'unicode_in_prompt',
      'html_chars',
      'newline_quote_backslash',
      'long_prompt',
      'email_null_grounding',
      'artifact_key_order',
    ]) {
      assert.ok(fixtureNames.includes(name), name);
    }
  });

  for (const name of fixtureNames) {
    it(`${name}: encoded row equals the expected bytes and the schema`, () => {
      const input = readFileSync(`${FIXTURES_DIR}/${name}.json`, 'utf8');
      const expected = readFileSync(`${EXPECTED_DIR}/${name}.jsonl`);
      const row = encodeSessionRecord(parseSessionFixture(input, PINNED, 'gateway'));
      assert.equal(
        Buffer.compare(Buffer.from(row, 'utf8'), expected),
        0,
        `${row}\n!==\n${expected.toString()}`,
      );
      assert.ok(validateRow(JSON.parse(row)), JSON.stringify(validateRow.errors));
    });
  }
});

describe('encodeSessionRecord', () => {
  it('writes keys in schema order, one line ending in a newline', () => {
    const row = encodeSessionRecord(
      base({
        finalVerdict: 'accepted',
        artifact: { fills: [] },
        groundedInRoster: true,
        attempts: [
          { iteration: 0, verdictKind: 'accepted', error: 'e', spanId: '00f067aa0ba902b7' },
        ],
      }),
    );
    assert.equal(row.indexOf('\n'), row.length - 1);
    assert.deepEqual(Object.keys(JSON.parse(row) as object), [
      'schema',
      'session_id',
      'timestamp',
      'daemon',
      'kind',
      'model',
      'provider',
      'prompt',
      'iterations',
      'max_iterations',
      'final_verdict',
      'attempts',
      'artifact',
      'grounded_in_roster',
      'duration_ms',
    ]);
    assert.ok(row.startsWith(`{"schema":"${SESSION_RECORD_SCHEMA}","session_id":`));
    assert.ok(
      row.includes(
        '"attempts":[{"iteration":0,"verdict_kind":"accepted","error":"e","span_id":"00f067aa0ba902b7"}]',
      ),
    );
  });

  it('omits artifact when undefined (or null), and error/span_id when undefined', () => {
    const row = encodeSessionRecord(base({ attempts: [{ iteration: 0, verdictKind: 'no_json' }] }));
    assert.ok(!row.includes('"artifact"'));
    assert.ok(
      row.includes(
        '"attempts":[{"iteration":0,"verdict_kind":"no_json"}],"grounded_in_roster":null',
      ),
    );
    const withNull = encodeSessionRecord({
      ...base(),
      artifact: null as unknown as Record<string, unknown>,
    });
    assert.ok(!withNull.includes('"artifact"'));
    assert.ok(encodeSessionRecord(base()).includes('"attempts":[],"grounded_in_roster":null'));
  });

  it('writes grounded_in_roster as true, false or null', () => {
    assert.ok(
      encodeSessionRecord(base({ groundedInRoster: true })).includes('"grounded_in_roster":true,'),
    );
    assert.ok(
      encodeSessionRecord(base({ groundedInRoster: false })).includes(
        '"grounded_in_roster":false,',
      ),
    );
    assert.ok(
      encodeSessionRecord(base({ groundedInRoster: null })).includes('"grounded_in_roster":null,'),
    );
  });

  it('writes integers without decimals', () => {
    const row = encodeSessionRecord(
      base({
        durationMs: 12.7,
        iterations: 2.0,
        maxIterations: 3,
        attempts: [{ iteration: 0.4, verdictKind: 'no_json' }],
      }),
    );
    assert.ok(row.endsWith(',"duration_ms":13}\n'));
    assert.ok(row.includes('"iterations":2,"max_iterations":3,'));
    assert.ok(row.includes('{"iteration":0,'));
    assert.ok(encodeSessionRecord(base({ durationMs: -0.2 })).endsWith('"duration_ms":0}\n'));
    assert.ok(encodeSessionRecord(base({ durationMs: Number.NaN })).endsWith('"duration_ms":0}\n'));
  });

  it('keeps < > & and non-ASCII raw, writes U+2028/U+2029 raw like serde_json', () => {
    const row = encodeSessionRecord(
      base({ prompt: '<a href="x">&</a> Café ⭐ 你好 \u2028\u2029' }),
    );
    assert.ok(row.includes('"prompt":"<a href=\\"x\\">&</a> Café ⭐ 你好 \u2028\u2029"'));
  });

  it('escapes control characters like Go and serde_json', () => {
    const row = encodeSessionRecord(base({ prompt: '\b\f\n\r\t\u0000\u001f\u007f"\\/' }));
    assert.ok(row.includes('"prompt":"\\b\\f\\n\\r\\t\\u0000\\u001f\u007f\\"\\\\/"'));
  });

  it('turns lone surrogates into U+FFFD in every string, keys included', () => {
    const row = encodeSessionRecord(
      base({
        prompt: 'a\ud800b\udfffc',
        model: '\ud83d',
        finalVerdict: 'accepted',
        artifact: { ['k\udc00']: ['\ud800'], ok: '😀' },
        attempts: [{ iteration: 0, verdictKind: 'accepted', error: 'x\udbff' }],
      }),
    );
    assert.ok(!/\\ud[89a-f]/i.test(row), row);
    assert.ok(row.includes('"prompt":"a\ufffdb\ufffdc"'));
    assert.ok(row.includes('"model":"\ufffd"'));
    assert.ok(row.includes('"artifact":{"k\ufffd":["\ufffd"],"ok":"😀"}'));
    assert.ok(row.includes('"error":"x\ufffd"'));
  });

  it('writes one key for keys that become one once well-formed, with the value of the last', () => {
    const source = String.raw`{"\udc00":1,"\ufffd":2,"a":{"\ufffd":3,"\ud800":4}}`;
    const artifact = JSON.parse(source) as unknown;
    for (const artifactJson of [undefined, source, source.replace('1', '1.0')]) {
      const row = encodeSessionRecord(base({ finalVerdict: 'accepted', artifact, artifactJson }));
      assert.ok(row.includes('"artifact":{"a":{"\ufffd":4},"\ufffd":2}'), row);
    }
  });

  it('sorts artifact keys by UTF-8 bytes at every depth, arrays keep order', () => {
    const row = encodeSessionRecord(
      base({
        finalVerdict: 'accepted',
        artifact: {
          b: { z: 1, a: [{ y: 1, x: 2 }] },
          '😀': 1,
          ﬁ: 2,
          a: [3, 1, 2],
          '10': 0,
          '9': 0,
        },
      }),
    );
    assert.ok(
      row.includes(
        '"artifact":{"10":0,"9":0,"a":[3,1,2],"b":{"a":[{"x":2,"y":1}],"z":1},"ﬁ":2,"😀":1}',
      ),
      row,
    );
  });

  it('treats artifact values like JSON.stringify: undefined skipped, Date via toJSON, NaN as null', () => {
    const row = encodeSessionRecord(
      base({
        finalVerdict: 'accepted',
        artifact: { u: undefined, d: new Date(0), n: Number.NaN, l: [undefined], f: 0.5, e: 1e-7 },
      }),
    );
    assert.ok(
      row.includes(
        '"artifact":{"d":"1970-01-01T00:00:00.000Z","e":1e-7,"f":0.5,"l":[null],"n":null}',
      ),
      row,
    );
  });

  it('truncates the prompt at 4000 code points without splitting the emoji on the boundary', () => {
    const prompt = 'x'.repeat(3999) + '😀' + 'tail';
    const row = encodeSessionRecord(base({ prompt }));
    const written = (JSON.parse(row) as { prompt: string }).prompt;
    assert.equal([...written].length, MAX_PROMPT_CODE_POINTS);
    assert.equal(written, 'x'.repeat(3999) + '😀');
  });

  it('writes the depth marker for a cyclic artifact instead of throwing or overflowing the stack', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    const row = encodeSessionRecord(base({ artifact: cyclic }));
    assert.ok(row.includes(`"artifact":${ARTIFACT_DEPTH_MARKER},`), row);
  });
});

describe('truncateCodePoints', () => {
  it('returns short strings unchanged and never splits a surrogate pair', () => {
    assert.equal(truncateCodePoints('abc', 3), 'abc');
    assert.equal(truncateCodePoints('😀😀😀', 2), '😀😀');
    assert.equal(truncateCodePoints('a😀b', 2), 'a😀');
    assert.equal(truncateCodePoints('abc', 0), '');
    assert.equal(truncateCodePoints('😀😀', 3), '😀😀');
    assert.equal(truncateCodePoints('\ud800\ud800x', 2), '\ud800\ud800');
  });
});

describe('compareCodePoints', () => {
  it('orders astral characters after U+E000..U+FFFF (UTF-16 order would not)', () => {
    assert.ok(compareCodePoints('ﬁ', '😀') < 0);
    assert.ok(['😀', 'ﬁ'].sort()[0] === '😀'); // the JS default this replaces
    assert.ok(compareCodePoints('é', 'émigré') < 0);
    assert.equal(compareCodePoints('a', 'a'), 0);
  });
});

describe('formatSessionTimestamp', () => {
  it('writes RFC 3339 UTC with 6 fractional digits', () => {
    const ms = Date.UTC(2026, 4, 2, 7, 30, 0, 123);
    assert.equal(formatSessionTimestamp(ms + 0.456), '2026-05-02T07:30:00.123456Z');
    assert.equal(formatSessionTimestamp(ms), '2026-05-02T07:30:00.123000Z');
    assert.equal(formatSessionTimestamp(ms + 0.9999), '2026-05-02T07:30:00.124000Z');
    assert.match(
      formatSessionTimestamp(performance.timeOrigin + performance.now()),
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/,
    );
  });
});

// Strings with lone surrogates, astral characters and the separators Go escapes.
const nastyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom('\ud800', '\udfff', 'a', '😀', '\u2028', '<', '&', '"', '\\', '\n', 'é'),
    maxLength: 20,
  }),
);

// Node 20 has String.prototype.toWellFormed; lib es2023 does not type it.
function wf(text: string): string {
  return (text as unknown as { toWellFormed(): string }).toWellFormed();
}

function normalise(value: unknown): unknown {
  if (typeof value === 'string') return wf(value);
  if (typeof value === 'number') return Object.is(value, -0) ? 0 : value;
  if (Array.isArray(value)) return value.map(normalise);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v)]));
  }
  return value;
}

describe('property: every encoded row parses back to the same record', () => {
  it('round-trips modulo the documented normalisations', () => {
    const attempt = fc.record(
      {
        iteration: fc.integer({ min: 0, max: 9 }),
        verdictKind: fc.constantFrom(
          'accepted',
          'validation_failed',
          'no_json',
          'infra_error' as const,
        ),
        error: nastyString,
        spanId: fc.stringMatching(/^[0-9a-f]{16}$/),
      },
      { requiredKeys: ['iteration', 'verdictKind'] },
    );
    const record = fc.record(
      {
        sessionId: fc.stringMatching(/^[0-9a-f]{32}$/),
        kind: fc.constantFrom('fill', 'email', 'playbook'),
        model: nastyString,
        provider: nastyString,
        prompt: fc.oneof(
          nastyString,
          fc.string({ unit: 'binary', minLength: 3990, maxLength: 4010 }),
        ),
        iterations: fc.integer({ min: 0, max: 10 }),
        maxIterations: fc.integer({ min: 1, max: 10 }),
        finalVerdict: fc.constantFrom('accepted', 'max_iter_exhausted', 'infra_error' as const),
        attempts: fc.array(attempt, { maxLength: 4 }),
        artifact: fc.dictionary(
          fc.string({ unit: 'grapheme', maxLength: 6 }),
          fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }),
        ),
        groundedInRoster: fc.constantFrom(true, false, null),
        durationMs: fc.integer({ min: 0, max: 10_000_000 }),
      },
      {
        requiredKeys: [
          'sessionId',
          'kind',
          'model',
          'provider',
          'prompt',
          'iterations',
          'maxIterations',
          'finalVerdict',
          'attempts',
          'groundedInRoster',
          'durationMs',
        ],
      },
    );
    fc.assert(
      fc.property(record, (r) => {
        const full: SessionRecord = {
          ...r,
          timestamp: '2026-05-02T07:30:00.123456Z',
          daemon: 'gateway',
        };
        // SPEC: the artifact is present exactly on accepted rows (the schema checks it).
        if (full.finalVerdict === 'accepted') full.artifact ??= {};
        else delete full.artifact;
        const line = encodeSessionRecord(full);
        assert.equal(line.indexOf('\n'), line.length - 1);
        assert.ok(!/\\ud[89a-f]/i.test(line));
        const row = JSON.parse(line) as Record<string, unknown>;
        assert.ok(validateRow(row), JSON.stringify(validateRow.errors));
        assert.equal(row['prompt'], wf(truncateCodePoints(full.prompt, MAX_PROMPT_CODE_POINTS)));
        assert.equal(row['model'], wf(full.model));
        assert.equal(row['session_id'], full.sessionId);
        assert.equal(row['final_verdict'], full.finalVerdict);
        assert.equal(row['grounded_in_roster'], full.groundedInRoster);
        assert.equal(row['duration_ms'], full.durationMs);
        assert.deepEqual(
          row['attempts'],
          full.attempts.map((a) => ({
            iteration: a.iteration,
            verdict_kind: a.verdictKind,
            ...(a.error !== undefined ? { error: wf(a.error) } : {}),
            ...(a.spanId !== undefined ? { span_id: a.spanId } : {}),
          })),
        );
        if (full.artifact === undefined) assert.ok(!('artifact' in row));
        else {
          assert.deepEqual(row['artifact'], normalise(full.artifact));
          // Re-encoding the parsed row gives the same bytes (the encoding is canonical).
          const again = encodeSessionRecord({
            ...full,
            artifact: row['artifact'] as Record<string, unknown>,
          });
          assert.equal(again, line);
        }
        // Stripping timestamp/daemon leaves the rest of the bytes untouched.
        const stripped = stripTopLevelKeys(line, ['timestamp', 'daemon']);
        assert.equal(
          stripped,
          line
            .slice(0, -1)
            .replace(',"timestamp":"2026-05-02T07:30:00.123456Z","daemon":"gateway"', ''),
        );
      }),
      { numRuns: 300 },
    );
  });
});
