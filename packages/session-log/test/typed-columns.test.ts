// How the `sessions` view types the fields it reads as JSON, on real DuckDB: a field is typed
// only when its JSON text is of the schema's type (an integer literal in the column's range, a
// JSON boolean, an array), and a present value of any other type is NULL and counted as
// malformed. The expectation is computed from the JSON text the row holds, not from DuckDB.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { runSessionReport, runSessionSql } from '../src/index.js';
import { ROW_TEXTS } from './helpers.js';

const I64: readonly [bigint, bigint] = [-(2n ** 63n), 2n ** 63n - 1n];
// duration_ms: Go writes any i64, Rust any u64.
const I64_TO_U64: readonly [bigint, bigint] = [-(2n ** 63n), 2n ** 64n - 1n];
const NUMBER_FIELDS = {
  iterations: I64,
  max_iterations: I64,
  duration_ms: I64_TO_U64,
} as const;
type NumberField = keyof typeof NUMBER_FIELDS;
type Field = NumberField | 'grounded_in_roster' | 'attempts';
const FIELDS: readonly Field[] = [
  'iterations',
  'max_iterations',
  'duration_ms',
  'grounded_in_roster',
  'attempts',
];
const JSON_INTEGER = /^-?(0|[1-9][0-9]*)$/;

/** A field's JSON text in a row, or undefined: the key is absent. */
type Texts = Partial<Record<Field, string>>;

// What the view must make of `text` in `field`: the typed value (JSON text of it) and whether
// the row is malformed for it. null and an absent key are NULL without being malformed.
function expected(field: Field, text: string | undefined): { value: unknown; wrong: boolean } {
  if (text === undefined || text === 'null') return { value: null, wrong: false };
  if (field === 'grounded_in_roster') {
    return text === 'true' || text === 'false'
      ? { value: text === 'true', wrong: false }
      : { value: null, wrong: true };
  }
  if (field === 'attempts') {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed)
      ? { value: parsed.length, wrong: false }
      : { value: null, wrong: true };
  }
  const [min, max] = NUMBER_FIELDS[field];
  if (!JSON_INTEGER.test(text)) return { value: null, wrong: true };
  const n = BigInt(text);
  if (n < min || n > max) return { value: null, wrong: true };
  // As the query API hands it back: a number when exact, else its decimal text.
  const safe = n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER);
  return { value: safe ? Number(n) : n.toString(), wrong: false };
}

// One row with the fields of `texts` in place of the defaults; the others keep valid values
// and a field given as undefined is left out.
function line(id: string, texts: Texts): string {
  const values: Record<string, string | undefined> = {
    ...ROW_TEXTS,
    session_id: JSON.stringify(id),
  };
  for (const field of FIELDS) if (field in texts) values[field] = texts[field];
  const members = Object.entries(values).flatMap(([k, v]) =>
    v === undefined ? [] : [`"${k}":${v}`],
  );
  return `{${members.join(',')}}\n`;
}

const SELECT =
  'SELECT session_id, iterations, max_iterations, duration_ms, grounded_in_roster, ' +
  'len(attempts) AS attempts, malformed FROM session_lines ORDER BY session_id';

// Writes the rows, reads them through the view, and compares every field and the malformed
// count with what their JSON texts call for.
async function assertTyped(dir: string, rows: readonly Texts[]): Promise<void> {
  const file = join(dir, `rows-${Math.random().toString(36).slice(2)}.jsonl`);
  const ids = rows.map((_, i) => `r${String(i).padStart(4, '0')}`);
  writeFileSync(file, rows.map((texts, i) => line(ids[i] as string, texts)).join(''));
  try {
    const { rows: got } = await runSessionSql(file, SELECT, rows.length + 1);
    const want = rows.map((texts, i) => {
      const row: Record<string, unknown> = { session_id: ids[i] };
      let malformed = false;
      for (const field of FIELDS) {
        const text = field in texts ? texts[field] : ROW_TEXTS[field];
        const { value, wrong } = expected(field, text);
        row[field] = value;
        malformed ||= wrong;
      }
      row['malformed'] = malformed;
      return row;
    });
    assert.deepEqual(got, want);
    const report = await runSessionReport(file);
    assert.equal(report.lines.rows, rows.length);
    assert.equal(report.lines.malformed, want.filter((r) => r['malformed'] === true).length);
  } finally {
    rmSync(file);
  }
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'session-log-typed-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('the sessions view types each field by its JSON type', () => {
  it('integers only from integer literals in range: no quoted number, real or exponent form', async () => {
    const texts = [
      '3',
      '"3"',
      '1.5',
      '1e3',
      '1E3',
      '1E+3',
      '1e-0',
      '-0',
      '-0.0',
      '1.0',
      '0',
      '-5',
      '9223372036854775807',
      '9223372036854775808',
      '-9223372036854775808',
      '-9223372036854775809',
      '18446744073709551615',
      '18446744073709551616',
      '55340232221128655000',
      '170141183460469231731687303715884105727',
      '170141183460469231731687303715884105728',
      '123456789012345678901234567890123456789012',
      '1e-7',
      '5e-324',
      '1e19',
      '1e21',
      '1E400',
      '-1.5E400',
      '5E-400',
      '"true"',
      'true',
      '[]',
      '{}',
      'null',
    ];
    const rows = texts.flatMap((text) =>
      (['iterations', 'max_iterations', 'duration_ms'] as const).map((field) => ({
        [field]: text,
      })),
    );
    await assertTyped(dir, [...rows, { iterations: undefined, duration_ms: undefined }]);
  });

  it('grounded_in_roster only from a JSON boolean, attempts only from a JSON array', async () => {
    const grounded = ['true', 'false', 'null', '"true"', '"false"', '0', '1', '[false]', '{}'];
    const attempts = [
      '[]',
      '[{"iteration":0,"verdict_kind":"accepted"}]',
      '[1,"x"]',
      'null',
      '{}',
      '{"0":{"iteration":0}}',
      '"[]"',
      '"[{\\"iteration\\":0}]"',
      '3',
      'true',
    ];
    await assertTyped(dir, [
      ...grounded.map((text) => ({ grounded_in_roster: text })),
      ...attempts.map((text) => ({ attempts: text })),
      { grounded_in_roster: undefined, attempts: undefined },
    ]);
  });

  it('generated numbers, notations and JSON types', { timeout: 120_000 }, async () => {
    const bigint = fc.oneof(
      fc.bigInt({ min: -1000n, max: 1000n }),
      fc.bigInt({ min: -(2n ** 64n) - 5n, max: 2n ** 64n + 5n }),
      fc.bigInt({ min: -(2n ** 130n), max: 2n ** 130n }),
      fc.constantFrom(...[...I64, ...I64_TO_U64].flatMap((b) => [b - 1n, b, b + 1n])),
    );
    const integer = bigint.map(String);
    const numberText = fc.oneof(
      integer,
      fc.constant('-0'),
      // An integral value written as a real: never an integer to JSON.
      fc
        .tuple(
          fc.bigInt({ min: -1000n, max: 1000n }),
          fc.constantFrom('e', 'E'),
          fc.constantFrom('', '+', '-'),
          fc.nat(400),
        )
        .map(([m, e, sign, x]) => `${m}${e}${sign}${x}`),
      fc.tuple(integer, fc.constantFrom('.0', '.5', '.000')).map(([i, f]) => i + f),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
      integer.map((t) => JSON.stringify(t)),
      fc.constantFrom('true', 'false', 'null', '[]', '{}', '"x"'),
    );
    const anyJson = fc.oneof(
      fc.constantFrom('true', 'false', 'null', '"true"', '"false"', '[]', '"[]"', '{}'),
      fc.json({ maxDepth: 2 }),
      numberText,
    );
    const maybe = (arb: fc.Arbitrary<string>): fc.Arbitrary<string | undefined> =>
      fc.option(arb, { nil: undefined, freq: 8 });
    const rowTexts: fc.Arbitrary<Texts> = fc.record(
      {
        iterations: maybe(numberText),
        max_iterations: maybe(numberText),
        duration_ms: maybe(numberText),
        grounded_in_roster: maybe(anyJson),
        attempts: maybe(anyJson),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(rowTexts, { minLength: 1, maxLength: 40 }), (rows) =>
        assertTyped(dir, rows),
      ),
      { numRuns: 30 },
    );
  });
});
