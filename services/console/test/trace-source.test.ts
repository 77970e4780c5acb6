import assert from 'node:assert/strict';
import { appendFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { langfuseAuthorization } from '@lakehouse/langfuse-processor';
import { sessionPage } from '../src/session-page.js';
import { LangfuseApiSource } from '../src/langfuse-trace-source.js';
import { TraceFileSource } from '../src/trace-source.js';
import { boundedTree } from '../src/tree-view.js';
import { tempDir } from './helpers.js';

const TRACE_A = 'a'.repeat(32);
const TRACE_B = 'b'.repeat(32);

// One OTLP/JSON export request line, as OtlpJsonFileSpanExporter writes it.
function exportLine(
  spans: Array<{ traceId: string; spanId: string; parent?: string; name: string; level?: string }>,
): string {
  return `${JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'gateway' } }] },
        scopeSpans: [
          {
            scope: { name: 'gateway' },
            spans: spans.map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              ...(s.parent ? { parentSpanId: s.parent } : {}),
              name: s.name,
              startTimeUnixNano: '1000000',
              endTimeUnixNano: '3000000',
              attributes: [
                { key: 'langfuse.observation.level', value: { stringValue: s.level ?? 'DEFAULT' } },
                ...(s.parent
                  ? []
                  : [{ key: 'langfuse.internal.as_root', value: { stringValue: 'true' } }]),
              ],
            })),
          },
        ],
      },
    ],
  })}\n`;
}

describe('TraceFileSource', () => {
  it('indexes the trace file by offset: spans of a trace across lines, torn lines later, a replaced file again', async () => {
    const t = tempDir();
    const file = path.join(t.dir, 'traces.jsonl');
    try {
      writeFileSync(
        file,
        exportLine([{ traceId: TRACE_A, spanId: '1'.repeat(16), name: 'iterate fill' }]) +
          exportLine([{ traceId: TRACE_B, spanId: '2'.repeat(16), name: 'other' }]),
      );
      const source = new TraceFileSource(file);
      const first = await source.lookup(TRACE_A);
      assert.equal(first.tree?.observations.length, 1);
      const child = exportLine([
        {
          traceId: TRACE_A,
          spanId: '3'.repeat(16),
          parent: '1'.repeat(16),
          name: 'attempt 0',
          level: 'WARNING',
        },
      ]);
      appendFileSync(file, child.slice(0, 50));
      assert.equal(
        (await source.lookup(TRACE_A)).tree?.observations.length,
        1,
        'a torn line waits',
      );
      appendFileSync(file, child.slice(50));
      const whole = await source.lookup(TRACE_A.toUpperCase());
      assert.equal(whole.tree?.roots[0]?.children[0]?.name, 'attempt 0');
      assert.equal(whole.tree?.roots[0]?.children[0]?.level, 'WARNING');
      const other = path.join(t.dir, 'new.jsonl');
      writeFileSync(
        other,
        exportLine([{ traceId: TRACE_B, spanId: '4'.repeat(16), name: 'fresh' }]),
      );
      renameSync(other, file);
      assert.equal((await source.lookup(TRACE_A)).tree, undefined);
      assert.equal((await source.lookup(TRACE_B)).tree?.roots[0]?.name, 'fresh');
      assert.match(
        (await new TraceFileSource(path.join(t.dir, 'missing.jsonl')).lookup(TRACE_A)).note ?? '',
        /no spans/,
      );
    } finally {
      t.cleanup();
    }
  });
});

describe('TraceFileSource notices a trace file rewritten in place', () => {
  const TRACES = ['a', 'b', 'c'].map((c) => c.repeat(32));
  // One batch line; `writer` leads the line (as service.name), so lines written by another run
  // differ in their first bytes.
  const batch = (writer: string, spans: Array<{ trace: number; name: string }>): string =>
    `${JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: writer } }] },
          scopeSpans: [
            {
              spans: spans.map((s, i) => ({
                traceId: TRACES[s.trace],
                spanId: (i + 1).toString(16).padStart(16, '0'),
                name: s.name,
                startTimeUnixNano: '1000000',
                endTimeUnixNano: '2000000',
              })),
            },
          ],
        },
      ],
    })}\n`;
  const BATCHES = fc.array(
    fc.array(fc.record({ trace: fc.integer({ min: 0, max: 2 }), name: fc.string() }), {
      minLength: 1,
      maxLength: 4,
    }),
    { maxLength: 5 },
  );
  const names = async (source: TraceFileSource, trace: string): Promise<string[]> =>
    ((await source.lookup(trace)).tree?.observations ?? []).map((o) => o.name).sort();

  it('after a rewrite in place (same inode, any length) or an append, answers as a fresh read of the file does', async () => {
    const t = tempDir();
    const file = path.join(t.dir, 'traces.jsonl');
    try {
      await fc.assert(
        fc.asyncProperty(
          BATCHES,
          BATCHES,
          fc.constantFrom('rewrite', 'append'),
          async (older, newer, how) => {
            writeFileSync(file, older.map((b) => batch('run-1', b)).join(''));
            const followed = new TraceFileSource(file);
            for (const trace of TRACES) await followed.lookup(trace);
            const inode = statSync(file).ino;
            const next = newer.map((b) => batch('run-2', b)).join('');
            // writeFileSync truncates the same file: the inode stays, only the bytes change.
            if (how === 'rewrite') writeFileSync(file, next);
            else appendFileSync(file, next);
            assert.equal(statSync(file).ino, inode);
            for (const trace of TRACES)
              assert.deepEqual(
                await names(followed, trace),
                await names(new TraceFileSource(file), trace),
                trace,
              );
          },
        ),
        { numRuns: 150, includeErrorInReport: true },
      );
    } finally {
      t.cleanup();
    }
  });

  it('a rewrite longer than what was indexed: the old trees are gone, the new ones all there', async () => {
    const t = tempDir();
    const file = path.join(t.dir, 'traces.jsonl');
    try {
      writeFileSync(
        file,
        batch('run-1', [{ trace: 0, name: 'old a' }]) +
          batch('run-1', [{ trace: 1, name: 'old b' }]),
      );
      const source = new TraceFileSource(file);
      assert.deepEqual(await names(source, TRACES[1] ?? ''), ['old b']);
      // Trace c's span comes first in a line that runs far past the old end of the file.
      writeFileSync(
        file,
        batch('run-2', [
          { trace: 2, name: 'new c' },
          { trace: 2, name: 'x'.repeat(2000) },
        ]) + batch('run-2', [{ trace: 0, name: 'new a' }]),
      );
      assert.deepEqual(await names(source, TRACES[0] ?? ''), ['new a']);
      assert.deepEqual(await names(source, TRACES[1] ?? ''), []);
      assert.deepEqual(await names(source, TRACES[2] ?? ''), ['new c', 'x'.repeat(2000)]);
    } finally {
      t.cleanup();
    }
  });
});

describe('LangfuseApiSource against a stand-in for Langfuse’s public read API', () => {
  const AUTH = langfuseAuthorization('pk-lf-test', 'sk-lf-test');
  const observations = [
    {
      id: 'root',
      parentObservationId: null,
      isRootObservation: true,
      name: 'iterate fill',
      type: 'SPAN',
      level: 'WARNING',
      startTime: '2026-11-25T06:46:05.000Z',
      endTime: '2026-11-25T06:46:05.035Z',
    },
    {
      id: 'att0',
      parentObservationId: 'root',
      isRootObservation: false,
      name: 'attempt 0',
      type: 'SPAN',
      level: 'WARNING',
      statusMessage: 'candidate_id W-2109 not in roster',
      startTime: '2026-11-25T06:46:05.001Z',
      endTime: '2026-11-25T06:46:05.020Z',
    },
    {
      id: 'gen0',
      parentObservationId: 'att0',
      isRootObservation: false,
      name: 'chat phantom-once',
      type: 'GENERATION',
      level: 'DEFAULT',
      providedModelName: 'phantom-once',
      usageDetails: { input: 72, output: 102 },
      startTime: '2026-11-25T06:46:05.002Z',
      endTime: '2026-11-25T06:46:05.004Z',
    },
  ];
  let server: http.Server;
  let base = '';
  let v2 = true;
  let extra: unknown[] = []; // served after `observations`
  const served = (): unknown[] => [...observations, ...extra];
  const seen: string[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push(url.pathname);
      const json = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.headers.authorization !== AUTH) return json(401, { message: 'Invalid credentials' });
      if (url.pathname === '/api/public/projects')
        return json(200, { data: [{ id: 'proj-1', name: 'lakehouse' }] });
      if (url.pathname === '/api/public/v2/observations') {
        if (!v2) return json(404, { message: 'Not found' });
        const offset = Number(url.searchParams.get('cursor') ?? 0);
        const page =
          url.searchParams.get('traceId') === TRACE_A ? served().slice(offset, offset + 2) : [];
        return json(200, {
          data: page,
          meta:
            offset + 2 < served().length && page.length > 0 ? { cursor: String(offset + 2) } : {},
        });
      }
      if (url.pathname === `/api/public/traces/${TRACE_A}`)
        return json(200, {
          id: TRACE_A,
          name: 'iterate:fill',
          observations: served().map((o) =>
            typeof o === 'object' && o !== null ? { ...o, isRootObservation: undefined } : o,
          ),
        });
      return json(404, { message: 'Not found' });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('builds the tree from paged v2 observations and links the trace in Langfuse’s UI', async () => {
    const source = new LangfuseApiSource({ baseUrl: `${base}/`, authorization: AUTH });
    const lookup = await source.lookup(TRACE_A);
    assert.equal(lookup.link, `${base}/project/proj-1/traces/${TRACE_A}`);
    const root = lookup.tree?.roots[0];
    assert.equal(root?.name, 'iterate fill');
    assert.equal(root?.children[0]?.statusMessage, 'candidate_id W-2109 not in roster');
    assert.deepEqual(root?.children[0]?.children[0]?.usage, { input: 72, output: 102 });
    assert.equal(
      seen.filter((p) => p === '/api/public/v2/observations').length,
      2,
      'both pages read',
    );
    const html = sessionPage(
      {
        status: {
          file: 's',
          state: 'ready',
          fileBytes: 0,
          indexedBytes: 0,
          lines: 0,
          oversizeLines: 0,
          badLines: 0,
          resets: 0,
          error: undefined,
        },
        rows: 0,
        traces: source.description,
      },
      {
        sessionId: TRACE_A,
        rows: [],
        rowsTotal: 0,
        trace: { ...lookup, tree: lookup.tree && boundedTree(lookup.tree, 2000, 64) },
      },
    );
    assert.ok(html.includes(`href="${base}/project/proj-1/traces/${TRACE_A}"`));
    assert.match(html, /WARNING/);
  });

  it('falls back to the v1 trace endpoint on a server without v2, and explains a refused key', async () => {
    v2 = false;
    try {
      const lookup = await new LangfuseApiSource({ baseUrl: base, authorization: AUTH }).lookup(
        TRACE_A,
      );
      assert.equal(lookup.tree?.name, 'iterate:fill');
      assert.match(lookup.source, /GET \/api\/public\/traces\/\{traceId\}/);
    } finally {
      v2 = true;
    }
    const refused = await new LangfuseApiSource({
      baseUrl: base,
      authorization: 'Basic bm9wZQ==',
    }).lookup(TRACE_A);
    assert.equal(refused.tree, undefined);
    assert.equal(refused.link, undefined);
    assert.match(refused.note ?? '', /answered 401/);
  });

  it('leaves out and counts observations whose id or type is not a string, whatever JSON they hold', async () => {
    // `{"toString": …}` is what String() cannot convert; a JSON value of any shape stands in either field.
    const hostile = fc.oneof(
      fc.jsonValue(),
      fc.dictionary(fc.constantFrom('toString', 'valueOf', '__proto__'), fc.jsonValue()),
    );
    const field = fc.oneof(fc.string(), hostile);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ id: field, type: field }), { maxLength: 8 }),
        fc.boolean(),
        async (fields, useV2) => {
          extra = fields.map((f, i) => ({
            ...f,
            parentObservationId: 'root',
            isRootObservation: false,
            name: `extra ${i}`,
            startTime: '2026-11-25T06:46:05.010Z',
          }));
          v2 = useV2;
          try {
            const lookup = await new LangfuseApiSource({
              baseUrl: base,
              authorization: AUTH,
            }).lookup(TRACE_A);
            const valid = fields.filter(
              (f) => typeof f.id === 'string' && f.id !== '' && typeof f.type === 'string',
            );
            const invalid = fields.length - valid.length;
            assert.equal(lookup.tree?.observations.length, observations.length + valid.length);
            assert.deepEqual(
              lookup.tree?.observations.filter((o) => o.name.startsWith('extra')).map((o) => o.id),
              valid.map((f) => f.id),
            );
            if (invalid === 0) assert.equal(lookup.note, undefined);
            else
              assert.match(
                lookup.note ?? '',
                new RegExp(`^${invalid} observation\\(s\\) .*not shown`),
              );
          } finally {
            extra = [];
            v2 = true;
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
