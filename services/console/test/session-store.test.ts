import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  constants,
  existsSync,
  openSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import type { SessionRecord } from '@lakehouse/session-log';
import { SessionStore } from '../src/session-store.js';
import {
  exhaustedRecord,
  heldColdStart,
  line,
  loadedStore,
  record,
  tableRows,
  tempDir,
  withLog,
  withStore,
} from './helpers.js';

// Lines another producer, a crash or an attacker could leave in a shared log.
const NASTY_LINES = [
  '',
  ' ',
  '\t \r',
  '\u000b\u000c',
  'not json',
  '[1,2]',
  'null',
  '{"schema":"session.iterate.v1"',
  '{"schema":"other.v1","session_id":"x"}',
  '{"schema":"session.iterate.v1","iterations":"many","session_id":"typed-wrong"}',
  '{"schema":"session.iterate.v1","session_id":"a\u0000b"}',
  '{"schema":"session.iterate.v1","session_id":"two"}{"schema":"session.iterate.v1"}',
  '\u00a0',
  '\ufeff{"schema":"session.iterate.v1","session_id":"bom"}',
];

describe('SessionStore follows the session log by offset', () => {
  it('reads only appended lines, and a torn last line waits for its newline', async () => {
    await withLog(line(record(1)) + line(record(2)), async (store, t) => {
      assert.deepEqual(
        (await tableRows(store)).map((r) => r['session_id']),
        [record(1).sessionId, record(2).sessionId],
      );
      const third = line(record(3));
      appendFileSync(t.file, third.slice(0, 40));
      await store.refresh();
      assert.equal((await tableRows(store)).length, 2, 'half a row is not a row');
      assert.equal(
        store.status().indexedBytes,
        Buffer.byteLength(line(record(1)) + line(record(2))),
      );
      appendFileSync(t.file, third.slice(40));
      await store.refresh();
      const rows = await tableRows(store);
      assert.deepEqual(
        rows.map((r) => r['session_id']),
        [1, 2, 3].map((i) => record(i).sessionId),
      );
      assert.deepEqual(await store.readRow(2, record(3).sessionId), JSON.parse(third));
    });
  });

  it('reads the log again from the start when it is replaced or truncated', async () => {
    await withLog(line(record(1)) + line(record(2)), async (store, t) => {
      truncateSync(t.file, 0);
      appendFileSync(t.file, line(record(7)));
      await store.refresh();
      assert.deepEqual(
        (await tableRows(store)).map((r) => r['session_id']),
        [record(7).sessionId],
      );
      const other = path.join(t.dir, 'rotated.jsonl');
      writeFileSync(other, line(record(8)) + line(record(9)) + line(record(10)));
      renameSync(other, t.file);
      await store.refresh();
      assert.deepEqual(
        (await tableRows(store)).map((r) => r['session_id']),
        [8, 9, 10].map((i) => record(i).sessionId),
      );
      assert.equal(store.status().resets, 2);
    });
  });

  it('notices a log truncated and rewritten past the old offset, and reads it again', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 6 }),
        async (before, extra) => {
          const old = Array.from({ length: before }, (_, i) => record(i));
          await withLog(old.map(line).join(''), async (store, t) => {
            // Same inode, at least as long as before: size and inode say nothing changed.
            const fresh = Array.from({ length: before + extra }, (_, i) => record(100 + i));
            truncateSync(t.file, 0);
            appendFileSync(t.file, fresh.map(line).join(''));
            await store.refresh();
            assert.deepEqual(
              (await tableRows(store)).map((r) => r['session_id']),
              fresh.map((r) => r.sessionId),
            );
            assert.equal(store.status().resets, 1);
            const first = fresh[0]?.sessionId ?? '';
            assert.equal(
              ((await store.readRow(0, first)) as { session_id?: string })?.session_id,
              first,
            );
          });
        },
      ),
      { numRuns: 15 },
    );
  });

  it('reads a row back only while its line still holds that session', async () => {
    await withLog(line(record(1)) + line(record(2)), async (store, t) => {
      const id = record(1).sessionId;
      assert.equal(((await store.readRow(0, id)) as { session_id?: string })?.session_id, id);
      // Rewritten in place between the last refresh and this read (same size, same inode).
      writeFileSync(t.file, line(record(3)) + line(record(4)));
      assert.equal(await store.readRow(0, id), undefined);
    });
  });

  it('counts blank-free bad lines, skips over-long lines, and keeps every row where it is in the file', async () => {
    const big = line(record(5, { prompt: 'x'.repeat(5000) }));
    const text = [line(record(1)), ...NASTY_LINES.map((l) => `${l}\n`), big, line(record(6))];
    await withLog(
      text.join(''),
      async (store) => {
        const rows = await tableRows(store);
        const ids = rows.map((r) => r['session_id']);
        assert.ok(
          ids.includes(record(1).sessionId) && ids.includes(record(6).sessionId),
          String(ids),
        );
        assert.ok(!ids.includes(record(5).sessionId), 'the over-long line is skipped');
        assert.equal(store.status().oversizeLines, 1);
        for (const row of rows) {
          const raw = (await store.readRow(row['seq'] as number, String(row['session_id']))) as
            Record<string, unknown> | undefined;
          if (raw !== undefined) assert.equal(raw['session_id'], row['session_id']);
        }
        // Blank and whitespace-only lines are not lines; the rest is a row or a bad line.
        const blank = NASTY_LINES.filter((l) => /^[ \t\r\v\f]*$/.test(l)).length;
        assert.equal(store.status().lines, NASTY_LINES.length - blank + 3);
        assert.equal(store.status().badLines, store.status().lines - rows.length - 1);
      },
      { maxLineBytes: 4096 },
    );
  });

  it('a row torn at any byte costs only its own line: the intact rows after it are all listed', async () => {
    // DuckDB's newline-delimited reader treats a newline as whitespace: a fragment cut where a
    // value is due (after `:`, `[` or `,`) would take the next line, an intact row, as that value.
    const torn = line({ ...exhaustedRecord(7), prompt: 'a} "b": [c, {d' }).slice(0, -1);
    const cuts = Array.from({ length: torn.length - 1 }, (_, i) => i + 1);
    assert.ok([':', '[', ','].every((c) => cuts.some((cut) => torn.slice(0, cut).endsWith(c))));
    const intact = (cut: number, k: number): SessionRecord =>
      k === 0 ? record(1000 + cut) : exhaustedRecord(5000 + cut);
    const text = cuts
      .map((cut) => torn.slice(0, cut) + '\n' + line(intact(cut, 0)) + line(intact(cut, 1)))
      .join('');
    const expected = cuts.flatMap((cut) => [intact(cut, 0).sessionId, intact(cut, 1).sessionId]);
    const t = tempDir();
    try {
      writeFileSync(t.file, text);
      for (const bulkMinBytes of [0, Infinity]) {
        const warnings: string[] = [];
        const logger = { warn: (m: string) => warnings.push(m) };
        await withStore(
          t.file,
          async (store) => {
            const ids = (await tableRows(store)).map((r) => r['session_id']);
            assert.deepEqual(ids, expected, `bulkMinBytes ${bulkMinBytes}`);
            assert.equal(store.status().badLines, cuts.length);
            // DuckDB's parallel reader read the older lines: no fallback to reading them one by one.
            assert.deepEqual(warnings, []);
          },
          { bulkMinBytes, tailBytes: 64, logger },
        );
      }
      // One torn line in a long log is what the reader's own line-number check cannot see.
      const runOnCuts = cuts.filter((cut) => /[:[,]$/.test(torn.slice(0, cut)));
      for (const cut of runOnCuts) {
        const rows = Array.from({ length: 64 }, (_, i) => record(i));
        writeFileSync(t.file, [torn.slice(0, cut) + '\n', ...rows.map(line)].join(''));
        await withStore(
          t.file,
          async (store) => {
            const ids = (await tableRows(store)).map((r) => r['session_id']);
            assert.deepEqual(
              ids,
              rows.map((r) => r.sessionId),
              `cut after ${torn.slice(0, cut)}`,
            );
            assert.equal(store.status().badLines, 1);
          },
          { bulkMinBytes: 0, tailBytes: 64 },
        );
      }
    } finally {
      t.cleanup();
    }
  });

  it('DuckDB’s parallel reader (cold start) and the line-by-line reader build the same table', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc
              .integer({ min: 0, max: 500 })
              .map((i) => line(i % 3 === 0 ? exhaustedRecord(i) : record(i)).slice(0, -1)),
            fc.constantFrom(...NASTY_LINES),
            fc.string({ unit: 'binary', maxLength: 40 }),
          ),
          { maxLength: 40 },
        ),
        fc.boolean(),
        async (lines, trailingNewline) => {
          const t = tempDir();
          try {
            writeFileSync(t.file, lines.join('\n') + (trailingNewline ? '\n' : ''));
            const exact = await loadedStore(t.file, { bulkMinBytes: Number.MAX_SAFE_INTEGER });
            const warnings: string[] = [];
            const logger = { warn: (m: string) => warnings.push(m) };
            const bulk = await loadedStore(t.file, { bulkMinBytes: 0, tailBytes: 64, logger });
            try {
              assert.deepEqual(await tableRows(bulk), await tableRows(exact));
              // Falling back when DuckDB's reader gives up is fine; rows landing elsewhere is not.
              assert.deepEqual(
                warnings.filter((w) => /did not land/.test(w)),
                [],
              );
              if (
                !lines.some((l) => /[^\x20-\x7e\t\u00a0\ufeff\v\f\r]/.test(l)) &&
                !lines.includes('{"schema":"session.iterate.v1"')
              )
                assert.deepEqual(warnings, [], 'text lines go through the parallel reader');
              assert.deepEqual(bulk.status().lines, exact.status().lines);
            } finally {
              await exact.close();
              await bulk.close();
            }
          } finally {
            t.cleanup();
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('waits for a log that does not exist yet, then reads it', async () => {
    const t = tempDir();
    try {
      await withStore(t.file, async (store) => {
        assert.equal(store.status().state, 'missing');
        writeFileSync(t.file, line(record(4)));
        await store.refresh();
        assert.equal(store.status().state, 'ready');
        assert.equal((await tableRows(store)).length, 1);
      });
    } finally {
      t.cleanup();
    }
  });

  it(
    'never blocks on a log replaced by a FIFO: reading a row back refuses it at once',
    { timeout: 20_000 },
    () =>
      withLog(line(record(1)), async (store, t) => {
        rmSync(t.file);
        execFileSync('mkfifo', [t.file]);
        // Opening a FIFO for reading waits for a writer; four of them would take libuv's pool.
        const reads = await Promise.all(
          Array.from({ length: 6 }, () => store.readRow(0, record(1).sessionId)),
        );
        assert.deepEqual(
          reads,
          Array.from({ length: 6 }, () => undefined),
        );
        await store.refresh();
        assert.equal(store.status().state, 'error');
        assert.match(store.status().error ?? '', /not a regular file/);
      }),
  );

  it('reports bad lines only among the lines it has read while the older ones load', async () => {
    const t = tempDir();
    try {
      const good = Array.from({ length: 400 }, (_, i) => line(record(i))).join('');
      writeFileSync(t.file, good + 'not json\n' + line(record(999)));
      const { store, release } = await heldColdStart(t.file);
      try {
        await store.refresh();
        assert.equal(store.status().state, 'bulk', 'the older lines are still loading');
        const tailRows = (await tableRows(store)).length;
        assert.ok(tailRows > 0 && tailRows < 400, String(tailRows));
        assert.equal(store.status().lines, 402);
        assert.equal(store.status().badLines, 1, 'only the bad line among the newest is counted');
        release();
        await store.settled();
        assert.equal(store.status().badLines, 1);
        assert.equal((await tableRows(store)).length, 401);
      } finally {
        release();
        await store.close();
      }
    } finally {
      t.cleanup();
    }
  });

  it('never writes: DuckDB has a memory limit and no temp directory, so a query past the limit fails instead of spilling', async () => {
    await withLog(
      '',
      async (store) => {
        const c = await store.connect();
        try {
          const settings = (
            await c.runAndReadAll(
              "SELECT current_setting('memory_limit') AS m, current_setting('temp_directory') AS t",
            )
          ).getRowObjectsJS()[0];
          assert.deepEqual(settings, { m: '30.5 MiB', t: '' });
          await assert.rejects(
            c.runAndReadAll(
              'SELECT count(*) FROM (SELECT * FROM range(5000000) t(x) ORDER BY hash(x))',
            ),
            /Out of Memory/,
          );
        } finally {
          c.closeSync();
        }
      },
      { memoryLimit: '32MB' },
    );
  });

  // A cold start over a log whose name is made to point elsewhere while the older lines wait for
  // DuckDB's reader: `swap` does it, given the log's path and a scratch directory.
  async function coldStartSwapped(swap: (file: string, dir: string) => void): Promise<{
    rows: number;
    warnings: string[];
    store: SessionStore;
    t: ReturnType<typeof tempDir>;
  }> {
    const t = tempDir();
    writeFileSync(t.file, Array.from({ length: 300 }, (_, i) => line(record(i))).join(''));
    const warnings: string[] = [];
    const { store, release } = await heldColdStart(t.file, {
      logger: { warn: (m) => warnings.push(m) },
    });
    await store.refresh();
    assert.equal(store.status().state, 'bulk', 'the older lines wait for DuckDB’s reader');
    swap(t.file, t.dir);
    release();
    await store.settled();
    return { rows: (await tableRows(store)).length, warnings, store, t };
  }

  it('DuckDB’s reader reads the log the store opened, not whatever its name points at by then', async () => {
    const { rows, warnings, store, t } = await coldStartSwapped((file, dir) => {
      // Same size, other sessions: rows read from it would not sit where the index says.
      const decoy = path.join(dir, 'decoy.jsonl');
      writeFileSync(decoy, Array.from({ length: 300 }, (_, i) => line(record(i + 1000))).join(''));
      renameSync(file, path.join(dir, 'moved.jsonl'));
      renameSync(decoy, file);
    });
    try {
      assert.equal(rows, 300);
      assert.deepEqual(warnings, [], 'no fallback: DuckDB read the opened file');
      assert.equal((await tableRows(store))[0]?.['session_id'], record(0).sessionId);
    } finally {
      await store.close();
      t.cleanup();
    }
  });

  // Were DuckDB left waiting on the FIFO below (the failure), a writer that comes and goes lets
  // it finish, so the test run can end.
  let fifo = '';
  after(() => {
    if (fifo !== '' && existsSync(fifo))
      closeSync(openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK));
  });

  it(
    'a log swapped for a FIFO while the older lines wait for DuckDB’s reader: loads the opened file, never opens the FIFO',
    { timeout: 60_000 },
    async () => {
      const { rows, warnings, store, t } = await coldStartSwapped((file, dir) => {
        renameSync(file, path.join(dir, 'moved.jsonl'));
        execFileSync('mkfifo', [file]);
        fifo = file;
      });
      try {
        assert.equal(rows, 300);
        assert.deepEqual(warnings, []);
        // Opening a FIFO to write without blocking fails (ENXIO) while nobody reads it.
        assert.throws(() => openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK), /ENXIO/);
      } finally {
        await store.close();
        t.cleanup();
      }
    },
  );

  it('refuses a FIFO without reading from it (that would take rows from its real reader)', async () => {
    const t = tempDir();
    try {
      const fifo = path.join(t.dir, 'sessions.fifo');
      execFileSync('mkfifo', [fifo]);
      const store = await SessionStore.create({ path: fifo });
      try {
        await store.refresh();
        assert.equal(store.status().state, 'error');
        assert.match(store.status().error ?? '', /not a regular file/);
      } finally {
        await store.close();
      }
    } finally {
      t.cleanup();
    }
  });
});
