import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance, VARCHAR } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import fc from 'fast-check';
import { QueryParamError, parseSessionQuery } from '../src/query-params.js';

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

// Timestamp-shaped text with every field drawn past its range, so invalid calendars come up.
const timestampText = fc
  .record({
    year: fc.integer({ min: 0, max: 9999 }),
    month: fc.integer({ min: 0, max: 13 }),
    day: fc.integer({ min: 0, max: 32 }),
    time: fc.option(
      fc.record({
        sep: fc.constantFrom('T', ' '),
        hour: fc.integer({ min: 0, max: 25 }),
        minute: fc.integer({ min: 0, max: 60 }),
        second: fc.option(fc.integer({ min: 0, max: 61 }), { nil: undefined }),
        fraction: fc.option(fc.stringMatching(/^[0-9]{1,9}$/), { nil: undefined }),
        zone: fc.option(
          fc.oneof(
            fc.constant('Z'),
            fc
              .tuple(
                fc.constantFrom('+', '-'),
                fc.integer({ min: 0, max: 25 }),
                fc.integer({ min: 0, max: 60 }),
              )
              .map(([sign, h, m]) => `${sign}${pad(h)}:${pad(m)}`),
          ),
          { nil: undefined },
        ),
      }),
      { nil: undefined },
    ),
  })
  .map((f) => {
    let text = `${pad(f.year, 4)}-${pad(f.month)}-${pad(f.day)}`;
    const t = f.time;
    if (t !== undefined) {
      text += `${t.sep}${pad(t.hour)}:${pad(t.minute)}`;
      if (t.second !== undefined)
        text += `:${pad(t.second)}${t.fraction !== undefined ? `.${t.fraction}` : ''}`;
      if (t.zone !== undefined) text += t.zone;
    }
    return { text, f };
  });

type Fields = typeof timestampText extends fc.Arbitrary<{ f: infer F }> ? F : never;

// The reference: is this a real instant, and which (µs since the epoch, UTC when no zone)?
function reference(f: Fields): bigint | undefined {
  const days = [
    31,
    f.year % 4 === 0 && (f.year % 100 !== 0 || f.year % 400 === 0) ? 29 : 28,
    31,
    30,
    31,
    30,
    31,
    31,
    30,
    31,
    30,
    31,
  ];
  if (f.year < 1 || f.month < 1 || f.month > 12 || f.day < 1 || f.day > (days[f.month - 1] ?? 0))
    return undefined;
  const t = f.time ?? { hour: 0, minute: 0, second: 0, fraction: undefined, zone: undefined };
  if (t.hour > 23 || t.minute > 59 || (t.second ?? 0) > 59) return undefined;
  let offset = 0;
  if (t.zone !== undefined && t.zone !== 'Z') {
    const [h, m] = t.zone.slice(1).split(':').map(Number) as [number, number];
    if (h > 23 || m > 59) return undefined;
    offset = (t.zone.startsWith('-') ? -1 : 1) * (h * 60 + m) * 60_000;
  }
  const date = new Date(0);
  date.setUTCFullYear(f.year, f.month - 1, f.day);
  date.setUTCHours(t.hour, t.minute, t.second ?? 0, 0);
  const micros = t.second === undefined ? 0 : Math.floor(Number(`0.${t.fraction ?? '0'}`) * 1e6);
  return BigInt(date.getTime() - offset) * 1000n + BigInt(micros);
}

describe('the sessions query string', () => {
  let instance: DuckDBInstance;
  let c: DuckDBConnection;
  before(async () => {
    instance = await DuckDBInstance.create(':memory:');
    c = await instance.connect();
  });
  after(() => {
    c.closeSync();
    instance.closeSync();
  });

  it('since/until: a real calendar instant reaches DuckDB as that instant, anything else is a 400 naming the parameter', async () => {
    await fc.assert(
      fc.asyncProperty(
        timestampText,
        fc.constantFrom('since', 'until'),
        async ({ text, f }, name) => {
          const want = reference(f);
          let value: string | undefined;
          try {
            value = parseSessionQuery(new URLSearchParams({ [name]: text })).filters[name];
          } catch (error) {
            assert.ok(error instanceof QueryParamError, String(error));
            assert.equal(error.param, name);
            assert.equal(
              want,
              undefined,
              `${text} is a real instant but was refused: ${error.message}`,
            );
            return;
          }
          assert.notEqual(
            want,
            undefined,
            `${text} is no real instant but was accepted as ${value}`,
          );
          const reader = await c.runAndReadAll(
            'SELECT epoch_us(CAST($v AS TIMESTAMPTZ)) AS us',
            { v: value ?? '' },
            { v: VARCHAR },
          );
          const got = BigInt(reader.getRowObjectsJS()[0]?.['us'] as bigint);
          assert.ok(
            got - (want ?? 0n) <= 1n && (want ?? 0n) - got <= 1n,
            `${text} → ${value}: DuckDB ${got}, expected ${want}`,
          );
        },
      ),
      { numRuns: 400 },
    );
  });

  it('refuses a filter value over 1,000 characters, naming it', () => {
    assert.equal(
      parseSessionQuery(new URLSearchParams({ model: 'm'.repeat(1000) })).filters.model?.length,
      1000,
    );
    assert.throws(
      () => parseSessionQuery(new URLSearchParams({ model: 'm'.repeat(1001) })),
      (error: unknown) => error instanceof QueryParamError && error.param === 'model',
    );
  });

  it('the examples the form shows are accepted', () => {
    for (const text of [
      '2026-11-25T06:00Z',
      '2026-11-26',
      '2026-11-25 06:00',
      '2026-11-25T06:00:00.123456+05:30',
    ]) {
      assert.ok(parseSessionQuery(new URLSearchParams({ since: text })).filters.since, text);
    }
    assert.throws(() => parseSessionQuery(new URLSearchParams({ since: '2026-02-30' })), /since/);
    assert.throws(
      () => parseSessionQuery(new URLSearchParams({ until: '2026-01-01T24:00' })),
      /until/,
    );
  });
});
