import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { SessionRecord } from '@lakehouse/session-log';
import { FINAL_VERDICTS } from '@lakehouse/session-log';
import { OTHER_MODEL, TOP_MODELS, bucketWidth, overview } from '../src/overview-query.js';
import { MAX_PAGE_SIZE, SORT_COLUMNS } from '../src/session-filters.js';
import type { SessionFilters, SessionPageQuery, SortKey } from '../src/session-filters.js';
import { listSessions, sessionRows } from '../src/session-list.js';
import type { SessionStore } from '../src/session-store.js';
import { line, loadedStore, record, tempDir } from './helpers.js';

const HOSTILE = ["' OR 1=1 --", '"; DROP TABLE sessions; --', '$kind', '%', '_', '\\', 'x\u0000y'];
const MODELS = [
  'clean',
  'phantom-once',
  'gpt-4o-mini',
  ...HOSTILE,
  ...Array.from({ length: 8 }, (_, i) => `m${i}`),
];
const KINDS = ['fill', 'email', 'playbook', "fill' --"];

function makeRecords(): SessionRecord[] {
  const out: SessionRecord[] = [];
  for (let i = 0; i < 90; i++) {
    const kind = KINDS[i % KINDS.length] ?? 'fill';
    const verdict = FINAL_VERDICTS[(i * 7) % 3] ?? 'accepted';
    const phantom = i % 5 === 0;
    const attempts = [
      ...(phantom
        ? [
            {
              iteration: 0,
              verdictKind: 'validation_failed' as const,
              error: `candidate_id W-9${i} not in roster`,
            },
          ]
        : []),
      {
        iteration: phantom ? 1 : 0,
        verdictKind:
          verdict === 'accepted' ? ('accepted' as const) : ('validation_failed' as const),
        ...(verdict === 'accepted' ? {} : { error: 'expected 3 fills, got 2' }),
      },
    ];
    out.push(
      record(i, {
        // Not in file order: timestamps jump back and forth.
        timestamp: `2026-11-2${i % 3}T0${i % 10}:00:${String(i % 60).padStart(2, '0')}.000000Z`,
        kind,
        model: MODELS[i % MODELS.length] ?? 'clean',
        provider: i % 4 === 0 ? 'openai' : 'sim',
        finalVerdict: verdict,
        iterations: attempts.length,
        attempts,
        groundedInRoster: kind === 'fill' && verdict === 'accepted' ? i % 11 !== 0 : null,
        durationMs: (i * 37) % 101,
        ...(i === 42 ? { sessionId: record(41).sessionId } : {}),
      }),
    );
  }
  return out;
}

// The reference: what the table must show, computed in JS.
function expectedIds(
  records: SessionRecord[],
  q: SessionPageQuery,
): { ids: string[]; total: number } {
  const f = q.filters;
  const rows = records
    .map((r, seq) => ({
      r,
      seq,
      phantoms: r.attempts.filter(
        (a) => a.verdictKind === 'validation_failed' && a.error?.includes('not in roster'),
      ).length,
    }))
    .filter(
      ({ r, phantoms }) =>
        (f.kind === undefined || r.kind === f.kind) &&
        (f.model === undefined || r.model === f.model) &&
        (f.provider === undefined || r.provider === f.provider) &&
        (f.verdict === undefined || r.finalVerdict === f.verdict) &&
        (f.grounded === undefined || String(r.groundedInRoster) === f.grounded) &&
        (!f.phantom || phantoms > 0) &&
        (!f.alarm ||
          (r.kind === 'fill' && r.finalVerdict === 'accepted' && r.groundedInRoster === false)) &&
        (f.since === undefined || Date.parse(r.timestamp) >= Date.parse(f.since)) &&
        (f.until === undefined || Date.parse(r.timestamp) < Date.parse(f.until)) &&
        (f.session === undefined || r.sessionId.startsWith(f.session)),
    );
  const key = (x: (typeof rows)[number]): string | number | boolean | null => {
    const r = x.r;
    const byKey: Record<SortKey, string | number | boolean | null> = {
      time: r.timestamp,
      kind: r.kind,
      model: r.model,
      provider: r.provider,
      verdict: r.finalVerdict,
      iterations: r.iterations,
      grounded: r.groundedInRoster,
      duration: r.durationMs,
    };
    return byKey[q.sort];
  };
  const sign = q.dir === 'asc' ? 1 : -1;
  rows.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (ka === null || kb === null)
      return ka === kb ? sign * (a.seq - b.seq) : ka === null ? 1 : -1;
    const c =
      typeof ka === 'string'
        ? Buffer.compare(Buffer.from(ka), Buffer.from(String(kb)))
        : Number(ka) - Number(kb);
    return c !== 0 ? sign * Math.sign(c) : sign * (a.seq - b.seq);
  });
  const last = Math.max(1, Math.ceil(rows.length / q.pageSize));
  const page = Math.min(q.page, last);
  return {
    ids: rows.slice((page - 1) * q.pageSize, page * q.pageSize).map((x) => x.r.sessionId),
    total: rows.length,
  };
}

describe('session queries on real DuckDB', () => {
  const records = makeRecords();
  const t = tempDir();
  let store: SessionStore;

  before(async () => {
    writeFileSync(t.file, records.map(line).join(''));
    store = await loadedStore(t.file);
  });
  after(async () => {
    await store.close();
    t.cleanup();
  });

  const run = async (q: SessionPageQuery) => {
    const c = await store.connect();
    try {
      return await listSessions(c, q);
    } finally {
      c.closeSync();
    }
  };

  it('filters, sorts and pages in DuckDB exactly as the reference does, for any filter values', async () => {
    const text = <T extends string>(values: readonly T[]) =>
      fc.option(fc.oneof(fc.constantFrom(...values), fc.string({ maxLength: 12 })), {
        nil: undefined,
      });
    const filters: fc.Arbitrary<SessionFilters> = fc
      .record(
        {
          kind: text(KINDS),
          model: text(MODELS),
          provider: text(['sim', 'openai']),
          verdict: fc.option(fc.constantFrom(...FINAL_VERDICTS), { nil: undefined }),
          grounded: fc.option(fc.constantFrom('true' as const, 'false' as const, 'null' as const), {
            nil: undefined,
          }),
          phantom: fc.option(fc.constant(true), { nil: undefined }),
          alarm: fc.option(fc.constant(true), { nil: undefined }),
          since: fc.option(fc.constantFrom('2026-11-20T05:00:00Z', '2026-11-21'), {
            nil: undefined,
          }),
          until: fc.option(fc.constantFrom('2026-11-22T00:00:00Z', '2026-11-21T03:30:00+01:00'), {
            nil: undefined,
          }),
          session: text(['0000', record(41).sessionId, '']),
        },
        { requiredKeys: [] },
      )
      .map(
        (f) =>
          Object.fromEntries(
            Object.entries(f).filter(([, v]) => v !== undefined && v !== ''),
          ) as SessionFilters,
      );
    await fc.assert(
      fc.asyncProperty(
        filters,
        fc.constantFrom(...(Object.keys(SORT_COLUMNS) as SortKey[])),
        fc.constantFrom('asc' as const, 'desc' as const),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 30 }),
        async (f, sort, dir, page, pageSize) => {
          const q: SessionPageQuery = { filters: f, sort, dir, page, pageSize };
          const got = await run(q);
          const want = expectedIds(records, q);
          assert.equal(got.total, want.total);
          assert.deepEqual(
            got.rows.map((r) => r.session_id),
            want.ids,
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  it('treats SQL in filter values as plain values: no error, no match beyond equality, table intact', async () => {
    for (const value of [...HOSTILE, "') OR ('1'='1", 'fill; DELETE FROM sessions']) {
      const page = await run({
        filters: { model: value },
        sort: 'time',
        dir: 'desc',
        page: 1,
        pageSize: 50,
      });
      assert.equal(page.total, records.filter((r) => r.model === value).length, value);
    }
    assert.equal(
      (await run({ filters: {}, sort: 'time', dir: 'desc', page: 1, pageSize: 1 })).total,
      records.length,
    );
  });

  it('bounds pages: size at most 200, a page past the end shows the last page', async () => {
    const big = await run({ filters: {}, sort: 'time', dir: 'desc', page: 1, pageSize: 10_000 });
    assert.equal(big.query.pageSize, MAX_PAGE_SIZE);
    const past = await run({ filters: {}, sort: 'time', dir: 'desc', page: 999, pageSize: 25 });
    assert.equal(past.query.page, Math.ceil(records.length / 25));
    assert.equal(past.rows.length, records.length % 25 || 25);
  });

  it('finds every row of a session id, oldest first (a reused trace id gives two)', async () => {
    const c = await store.connect();
    try {
      const found = await sessionRows(c, record(41).sessionId, 20);
      assert.deepEqual(
        found.rows.map((r) => r.seq),
        [41, 42],
      );
      assert.equal(found.total, 2);
      const first = await sessionRows(c, record(41).sessionId, 1);
      assert.deepEqual(
        { seqs: first.rows.map((r) => r.seq), total: first.total },
        { seqs: [41], total: 2 },
      );
      assert.deepEqual(await sessionRows(c, "' OR 1=1 --", 20), { rows: [], total: 0 });
    } finally {
      c.closeSync();
    }
  });

  it('overview: the alarm, verdict mix and phantom rate by model, attempts per session', async () => {
    const c = await store.connect();
    let data;
    try {
      data = await overview(c);
    } finally {
      c.closeSync();
    }
    const alarm = records.filter(
      (r) => r.kind === 'fill' && r.finalVerdict === 'accepted' && r.groundedInRoster === false,
    );
    assert.ok(alarm.length > 0);
    assert.equal(data.totals.alarm, alarm.length);
    assert.deepEqual(
      new Set(data.alarmRows.map((r) => r.session_id)),
      new Set(alarm.map((r) => r.sessionId)),
    );
    assert.equal(data.totals.sessions, records.length);
    assert.equal(data.models.length, TOP_MODELS + 1);
    assert.equal(data.models.at(-1)?.model, OTHER_MODEL);
    const byModel = data.models.reduce(
      (n, m) =>
        n +
        m.verdicts.accepted +
        m.verdicts.max_iter_exhausted +
        m.verdicts.infra_error +
        m.verdicts.other,
      0,
    );
    assert.equal(byModel, records.length);
    assert.deepEqual(
      data.verdictsOverTime.map((v) => v.verdict),
      FINAL_VERDICTS,
    );
    for (const { verdict, sessions } of data.verdictsOverTime) {
      assert.equal(
        sessions.reduce((a, b) => a + b, 0),
        records.filter((r) => r.finalVerdict === verdict).length,
      );
    }
    const clean = data.models.find((m) => m.model === 'clean');
    const cleanFills = records.filter((r) => r.model === 'clean' && r.kind === 'fill');
    assert.deepEqual(
      { fills: clean?.fills, phantom: clean?.phantom },
      {
        fills: cleanFills.length,
        phantom: cleanFills.filter((r) =>
          r.attempts.some((a) => a.error?.includes('not in roster')),
        ).length,
      },
    );
    for (const m of data.models) assert.equal(m.phantomRateOverTime.length, data.buckets.length);
    assert.ok(data.buckets.length <= 60);
    assert.deepEqual(
      data.attemptsPerSession,
      [1, 2].map((n) => ({
        attempts: n,
        sessions: records.filter((r) => r.iterations === n).length,
      })),
    );
  });

  it('overview: models named like Object members keep their numbers through JSON', async () => {
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];
    const u = tempDir();
    writeFileSync(
      u.file,
      names.map((model, i) => line(record(i, { model, attempts: [], iterations: 0 }))).join(''),
    );
    const s = await loadedStore(u.file);
    try {
      const c = await s.connect();
      try {
        const data = JSON.parse(JSON.stringify(await overview(c))) as Awaited<
          ReturnType<typeof overview>
        >;
        assert.deepEqual(data.models.map((m) => m.model).sort(), [...names].sort());
        for (const m of data.models) {
          assert.equal(m.verdicts.accepted, 1, m.model);
          assert.equal(m.fills, 1, m.model);
          assert.ok(Array.isArray(m.phantomRateOverTime), m.model);
        }
      } finally {
        c.closeSync();
      }
    } finally {
      await s.close();
      u.cleanup();
    }
  });

  it('picks at most 60 time buckets whatever the span', () => {
    for (const span of [0, 59, 3600, 86400 * 3, 86400 * 365 * 9000]) {
      assert.ok(span / bucketWidth(span) <= 60, String(span));
    }
    assert.equal(bucketWidth(3600), 60 * 5);
  });
});
