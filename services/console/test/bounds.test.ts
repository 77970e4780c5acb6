// What one session or one trace can cost a page: every count and every string a row or a trace
// holds is client-controlled (a foreign producer, a reused trace id), so each has a cap.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createConsoleApp } from '../src/app.js';
import { OneAtATime } from '../src/one-at-a-time.js';
import type { ConsoleAppOptions } from '../src/app.js';
import { TraceFileSource } from '../src/trace-source.js';
import { loadedStore, tempDir } from './helpers.js';

const ID = 'c'.repeat(32);

type Get = (target: string) => Promise<{ status: number; body: string }>;

/**
 * Runs `fn` against a console app on port 0 over a fresh log holding `log` (loaded first) and a
 * trace file holding `traces`; closes and removes everything after.
 */
async function withConsole(
  setup: { log?: string; traces?: string; limits?: ConsoleAppOptions['limits'] },
  fn: (get: Get) => Promise<void>,
): Promise<void> {
  const t = tempDir();
  const tracesPath = path.join(t.dir, 'traces.jsonl');
  writeFileSync(t.file, setup.log ?? '');
  if (setup.traces !== undefined) writeFileSync(tracesPath, setup.traces);
  // A log of 16 MiB or more loads in the background: wait for it.
  const store = await loadedStore(t.file);
  const app = createConsoleApp({
    store,
    traces: new TraceFileSource(tracesPath),
    ...(setup.limits !== undefined ? { limits: setup.limits } : {}),
  });
  const server = http.createServer(app);
  try {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await fn(async (target) => {
      const res = await fetch(`http://127.0.0.1:${port}${target}`);
      return { status: res.status, body: await res.text() };
    });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await store.close();
    t.cleanup();
  }
}

// A row as a foreign producer could write it: no caps at all.
function hostileRow(f: { attempts: number; label: number; prompt: number; error: number }): string {
  return `${JSON.stringify({
    schema: 'session.iterate.v1',
    session_id: ID,
    timestamp: `2026-11-25T06:00:00Z${'t'.repeat(f.label)}`,
    daemon: 'd'.repeat(f.label),
    kind: 'fill',
    model: 'm'.repeat(f.label),
    provider: 'p'.repeat(f.label),
    prompt: 'q'.repeat(f.prompt),
    iterations: f.attempts,
    max_iterations: 3,
    final_verdict: 'max_iter_exhausted',
    attempts: Array.from({ length: f.attempts }, (_, i) => ({
      iteration: i,
      verdict_kind: 'validation_failed',
      error: `candidate_id W-${i} not in roster ${'e'.repeat(f.error)}`,
      span_id: 'abcdefabcdefabcd',
    })),
    grounded_in_roster: null,
    duration_ms: 3,
  })}\n`;
}

// The text of one row of the page's field table.
function textOf(body: string, label: string): string {
  for (const m of body.matchAll(/<tr><th>([^<]*)<\/th><td>(.*?)<\/td><\/tr>/g))
    if (m[1] === label) return m[2] ?? '';
  return '';
}

describe('a session page is bounded whatever the row holds', () => {
  it('shows at most 100 attempts (saying how many more) and clips every field, in HTML and JSON', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          attempts: fc.integer({ min: 0, max: 3000 }),
          label: fc.integer({ min: 0, max: 100_000 }),
          prompt: fc.integer({ min: 0, max: 200_000 }),
          error: fc.integer({ min: 0, max: 20_000 }),
        }),
        async (f) => {
          const row = hostileRow(f);
          await withConsole({ log: row }, async (get) => {
            const page = await get(`/sessions/${ID}`);
            assert.equal(page.status, 200);
            const shown = (page.body.match(/validator-error/g) ?? []).length;
            // A row past the page's read-back budget shows its indexed fields only.
            const readBack = Buffer.byteLength(row) <= 4 * 1024 * 1024;
            assert.equal(shown, readBack ? Math.min(f.attempts, 100) : 0);
            if (!readBack) assert.match(page.body, /not read back: this row is [\d.]+ MiB/);
            else if (f.attempts > 100)
              assert.match(
                page.body,
                new RegExp(`${(f.attempts - 100).toLocaleString('en-US')} more attempts`),
              );
            for (const label of ['model', 'provider', 'daemon', 'time (UTC)'])
              assert.ok([...textOf(page.body, label)].length <= 256, label);
            assert.ok(page.body.length < 1_000_000, `${page.body.length} bytes of HTML`);
            const api = await get(`/api/sessions/${ID}`);
            assert.equal(api.status, 200);
            assert.ok(api.body.length < 1_000_000, `${api.body.length} bytes of JSON`);
            assert.doesNotMatch(api.body, /"raw":/, 'no unclipped raw row');
          });
        },
      ),
      { numRuns: 12, includeErrorInReport: true },
    );
  });
});

describe('a tree is bounded whatever the trace holds', () => {
  it('shows at most 2,000 observations of a trace (saying how many more), in HTML and JSON', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6000 }),
        fc.integer({ min: 1, max: 400 }),
        async (n, depth) => {
          const spanId = (i: number): string => (i + 1).toString(16).padStart(16, '0');
          // A chain `depth` deep under the root, the rest flat under the root.
          const spans = Array.from({ length: n }, (_, i) => ({
            traceId: ID,
            spanId: spanId(i),
            ...(i === 0 ? {} : { parentSpanId: spanId(i < depth ? i - 1 : 0) }),
            name: `span ${i}`,
            startTimeUnixNano: String(1_000_000 + i),
            endTimeUnixNano: '9000000',
          }));
          const traces = `${JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] })}\n`;
          await withConsole({ traces }, async (get) => {
            const page = await get(`/sessions/${ID}`);
            assert.equal(page.status, 200);
            const shown = (page.body.match(/<li id="obs-/g) ?? []).length;
            assert.ok(shown <= 2000 && shown > 0, `${shown} of ${n} observations shown`);
            if (shown < n)
              assert.match(
                page.body,
                new RegExp(`${(n - shown).toLocaleString('en-US')} more observations`),
              );
            assert.ok(page.body.length < 2_000_000, `${page.body.length} bytes of HTML`);
            const api = await get(`/api/sessions/${ID}`);
            assert.ok(api.body.length < 2_000_000, `${api.body.length} bytes of JSON`);
          });
        },
      ),
      { numRuns: 8, includeErrorInReport: true },
    );
  });
});

describe('a tree is shown whatever shape its caller gave it', () => {
  const spanId = (i: number): string => (i + 1).toString(16).padStart(16, '0');
  const tracesOf = (spans: object[]): string =>
    `${JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] })}\n`;

  it('a parent chain up to 120,000 deep: 64 levels shown, the rest counted, no stack overflow', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 65, max: 120_000 }), async (depth) => {
        const spans = Array.from({ length: depth }, (_, i) => ({
          traceId: ID,
          spanId: spanId(i),
          ...(i > 0 ? { parentSpanId: spanId(i - 1) } : {}),
          name: `level ${i}`,
          startTimeUnixNano: String(1_000_000 + i),
          endTimeUnixNano: '900000000',
        }));
        await withConsole({ traces: tracesOf(spans) }, async (get) => {
          const page = await get(`/sessions/${ID}`);
          assert.equal(page.status, 200);
          assert.equal((page.body.match(/<li id="obs-/g) ?? []).length, 64);
          assert.match(
            page.body,
            new RegExp(
              `${(depth - 64).toLocaleString('en-US')} more observations? not shown \\(a tree shows the first 2,000 in tree order, at most 64 levels deep\\)`,
            ),
          );
          const api = await get(`/api/sessions/${ID}`);
          assert.equal(api.status, 200);
          assert.ok(api.body.length < 100_000, `${api.body.length} bytes of JSON`);
        });
      }),
      { numRuns: 3, examples: [[100_000]], includeErrorInReport: true },
    );
  });

  // Keys an object literal answers to, and the ones the tree reads.
  const KEY = fc.constantFrom(
    '__proto__',
    'constructor',
    'toString',
    'valueOf',
    'hasOwnProperty',
    'langfuse.observation.level',
    'langfuse.observation.model.name',
    'langfuse.internal.as_root',
    'langfuse.trace.tags',
    'langfuse.trace.metadata',
    'x',
  );
  type Attr = { key: string; value: object };
  const { attrs: ATTRS } = fc.letrec<{ attrs: Attr[]; value: object }>((tie) => ({
    attrs: fc.array(fc.record({ key: KEY, value: tie('value') as fc.Arbitrary<object> }), {
      maxLength: 6,
    }),
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constantFrom('ERROR', 'WARNING', 'true', 'm').map((s) => ({ stringValue: s })),
      fc.boolean().map((b) => ({ boolValue: b })),
      fc.array(tie('value'), { maxLength: 2 }).map((values) => ({ arrayValue: { values } })),
      tie('attrs').map((values) => ({ kvlistValue: { values } })),
    ),
  }));

  it('attribute keys such as __proto__ and constructor: the page renders, each node shows only its own attributes', async () => {
    await fc.assert(
      fc.asyncProperty(ATTRS, ATTRS, async (rootAttrs, childAttrs) => {
        const span = (i: number, attributes: Attr[]): object => ({
          traceId: ID,
          spanId: spanId(i),
          ...(i > 0 ? { parentSpanId: spanId(0) } : {}),
          name: `node ${i}`,
          startTimeUnixNano: String(1_000_000 + i),
          endTimeUnixNano: '9000000',
          attributes,
        });
        // The last value given under a key is the attribute; only a string sets the level.
        const own = (attrs: Attr[], key: string): object | undefined =>
          attrs.filter((a) => a.key === key).at(-1)?.value;
        const levelOf = (attrs: Attr[]): string => {
          const v = own(attrs, 'langfuse.observation.level') as
            { stringValue?: unknown } | undefined;
          return typeof v?.stringValue === 'string' ? v.stringValue : 'DEFAULT';
        };
        await withConsole(
          { traces: tracesOf([span(0, rootAttrs), span(1, childAttrs)]) },
          async (get) => {
            const page = await get(`/sessions/${ID}`);
            assert.equal(page.status, 200);
            assert.match(page.body, new RegExp(`<li id="obs-${spanId(1)}"`));
            type Node = { id: string; level: string; children: Node[] };
            const api = JSON.parse((await get(`/api/sessions/${ID}`)).body) as {
              trace: { tree: { top: Node[] } };
            };
            const nodes = api.trace.tree.top.flatMap((n) => [n, ...n.children]);
            const byId = new Map(nodes.map((n) => [n.id, n]));
            assert.equal(byId.get(spanId(0))?.level, levelOf(rootAttrs));
            assert.equal(byId.get(spanId(1))?.level, levelOf(childAttrs));
          },
        );
      }),
      { numRuns: 40, includeErrorInReport: true },
    );
  });
});

describe('what one page reads is bounded', () => {
  it('runs heavy reads one at a time, in order, a failed one not stopping the next', async () => {
    const queue = new OneAtATime();
    const events: string[] = [];
    let releaseFirst = (): void => {};
    const first = queue.run(
      () =>
        new Promise<string>((resolve) => {
          events.push('first starts');
          releaseFirst = () => resolve('first');
        }),
    );
    const failing = queue.run(async () => {
      events.push('second starts');
      throw new Error('boom');
    });
    const third = queue.run(async () => {
      events.push('third starts');
      return 'third';
    });
    await Promise.resolve();
    assert.deepEqual(events, ['first starts'], 'nothing else starts while the first runs');
    releaseFirst();
    assert.equal(await first, 'first');
    await assert.rejects(failing, /boom/);
    assert.equal(await third, 'third');
    assert.deepEqual(events, ['first starts', 'second starts', 'third starts']);
  });

  it('reads back rows only while the page’s budget lasts, and shows the first rows of an id', async () => {
    // Ten rows under one id (a reused trace id), about 20 KiB each.
    const row = hostileRow({ attempts: 1, label: 10, prompt: 20_000, error: 10 });
    const limits = { readBackBytes: 64 * 1024, rowsPerSession: 5 };
    await withConsole({ log: row.repeat(10), limits }, async (get) => {
      const api = JSON.parse((await get(`/api/sessions/${ID}`)).body) as {
        rows: Array<{ detail: { unread?: string; prompt: string } }>;
        rowsTotal: number;
      };
      assert.equal(api.rowsTotal, 10);
      assert.equal(api.rows.length, 5);
      const readBack = api.rows.filter((r) => r.detail.unread === undefined).length;
      assert.equal(readBack, Math.floor((64 * 1024) / Buffer.byteLength(row)));
      for (const r of api.rows.slice(readBack))
        assert.match(
          r.detail.unread ?? '',
          /^not read back: this row is 20 KiB and a page reads back at most 64 KiB of the log$/,
        );
      const page = await get(`/sessions/${ID}`);
      assert.match(page.body, /10 rows carry this session id/);
      assert.match(page.body, /5 more rows not shown/);
    });
  });

  it('reads at most maxReadBytes of the trace file per lookup, and says how much it left', async () => {
    const t = tempDir();
    const traces = path.join(t.dir, 'traces.jsonl');
    const line = (k: number): string =>
      `${JSON.stringify({
        resourceSpans: [
          {
            scopeSpans: [
              {
                spans: Array.from({ length: 100 }, (_, i) => ({
                  traceId: ID,
                  spanId: (k * 1000 + i + 1).toString(16).padStart(16, '0'),
                  name: `span ${k}.${i} ${'n'.repeat(200)}`,
                  startTimeUnixNano: '1000000',
                  endTimeUnixNano: '2000000',
                })),
              },
            ],
          },
        ],
      })}\n`;
    const lines = Array.from({ length: 10 }, (_, k) => line(k));
    writeFileSync(traces, lines.join(''));
    const budget = 3 * Buffer.byteLength(lines[0] ?? '') + 10;
    const lookup = await new TraceFileSource(traces, { maxReadBytes: budget }).lookup(ID);
    assert.equal(lookup.tree?.observations.length, 300);
    assert.match(lookup.note ?? '', /only 3 of the 10 lines holding this trace were read/);
    const all = await new TraceFileSource(traces).lookup(ID);
    assert.equal(all.tree?.observations.length, 1000);
    assert.equal(all.note, undefined);
    t.cleanup();
  });
});
