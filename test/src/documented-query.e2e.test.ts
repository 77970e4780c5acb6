// The DuckDB query the README documents for everyone, run on real DuckDB over a log that a real
// deployment can write: artifact keys differing only in case (within a row and across rows), a
// fragment a killed producer left, an empty line, the artifact key first seen after DuckDB's
// 20,480-row sample, and a u64 duration (Rust). The bare SPEC form must fail on that log (so the
// test proves its premise); the documented view must read every row.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  SESSION_COLUMNS,
  checkSessionAlarm,
  encodeSessionRecord,
  runSessionReport,
  runSessionSql,
} from '@lakehouse/session-log';
import type { EncodableSessionRecord } from '@lakehouse/session-log';
import { REPO_ROOT } from './harness.js';

const read = (file: string): string => readFileSync(path.join(REPO_ROOT, file), 'utf8');

// The README's ```sql block that defines the `sessions` view.
function documentedBlock(): string {
  const blocks = [...read('README.md').matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  const block = blocks.find((b) => b.includes('CREATE OR REPLACE VIEW sessions'));
  assert.ok(block !== undefined, 'the README documents a sessions view');
  return block;
}

function row(i: number, overrides: Partial<EncodableSessionRecord> = {}): string {
  const accepted = i % 3 === 0;
  return encodeSessionRecord({
    sessionId: `s${i}`,
    timestamp: '2026-01-01T00:00:00.000000Z',
    daemon: 'gateway',
    kind: 'email',
    model: 'm',
    provider: 'p',
    prompt: 'x',
    iterations: 1,
    maxIterations: 3,
    finalVerdict: accepted ? 'accepted' : 'max_iter_exhausted',
    attempts: [{ iteration: 0, verdictKind: accepted ? 'accepted' : 'validation_failed' }],
    ...(accepted ? { artifact: { subject: 's', body: 'b', to: 'a@b' } } : {}),
    groundedInRoster: null,
    durationMs: 5,
    ...overrides,
  });
}

describe('the README’s DuckDB query, on real DuckDB', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lakehouse-documented-query-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads every row of a log with case-colliding artifact keys, a fragment and a late key; the bare form fails on it', async () => {
    const lines: string[] = [];
    // 21,000 sessions that never got an artifact: the key is first seen after the sample.
    for (let i = 0; i < 21_000; i++) lines.push(row(3 * i + 1));
    const fill = (i: number, artifact: unknown, grounded: boolean): string =>
      row(i, { kind: 'fill', finalVerdict: 'accepted', artifact, groundedInRoster: grounded });
    lines.push(fill(900_000, { Name: 1 }, true));
    lines.push(fill(900_003, { name: 'x' }, true));
    lines.push(fill(900_006, { A: 1, a: 2 }, false)); // the one ungrounded accepted fill
    lines.push(row(900_009).slice(0, 90) + '\n'); // a torn write's fragment
    lines.push('\n');
    lines.push(row(900_012, { durationMs: 18_446_744_073_709_551_615n }));
    const file = path.join(dir, 'sessions.jsonl');
    writeFileSync(file, lines.join(''));
    const rows = lines.length - 2; // all but the fragment and the empty line

    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      // The premise: SPEC §5's bare form fails for the whole file.
      for (const broken of [file, path.join(dir, 'fragment-only.jsonl')]) {
        if (broken !== file) writeFileSync(broken, row(1) + row(2).slice(0, 50) + '\n' + row(4));
        await assert.rejects(
          connection.run(`SELECT count(*) FROM read_json_auto('${broken}', format='nd')`),
          /Duplicate name "(name|a)" in struct auto-detected|Malformed JSON/,
        );
      }

      const block = documentedBlock();
      // The block reads every column the way `npm run sessions` types it.
      for (const [name, type] of SESSION_COLUMNS) {
        assert.ok(block.includes(`${name}: '${type}'`), `the README reads ${name} as ${type}`);
      }
      const statements = block
        .replaceAll("'sessions.jsonl'", `'${file}'`)
        .split(/;\s*\n/)
        .map((s) => s.replace(/^--.*$/gm, '').trim())
        .filter((s) => s !== '');
      assert.equal(statements.length, 3);
      const results = [];
      for (const sql of statements) {
        results.push((await connection.runAndReadAll(sql)).getRowObjectsJS());
      }
      const [, verdicts, alarm] = results;
      assert.deepEqual(
        verdicts?.map((r) => [r['final_verdict'], Number(r['sessions'])]),
        [
          ['accepted', 4],
          ['max_iter_exhausted', 21_000],
        ],
      );
      assert.deepEqual(
        alarm?.map((r) => r['session_id']),
        ['s900006'],
      );
      const reader = await connection.runAndReadAll(
        `SELECT count(*) AS n, count(artifact) AS artifacts, max(duration_ms)::VARCHAR AS longest,
                max(artifact) FILTER (session_id = 's900006') AS collided FROM sessions`,
      );
      const [summary] = reader.getRowObjectsJS();
      assert.equal(Number(summary?.['n']), rows);
      assert.equal(Number(summary?.['artifacts']), 4);
      assert.equal(summary?.['longest'], '18446744073709551615');
      assert.equal(summary?.['collided'], '{"A":1,"a":2}');
      // The same rows `npm run sessions` reads.
      const { rows: ours } = await runSessionSql(
        file,
        'SELECT count(*) AS n, count(artifact) AS artifacts FROM sessions',
      );
      assert.deepEqual(ours, [{ n: rows, artifacts: 4 }]);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });

  it('what plain SQL cannot tell, npm run sessions counts: a run-on fragment, a coerced field', async () => {
    const torn = row(3).slice(0, row(3).indexOf('"prompt":') + '"prompt":'.length);
    const ungrounded = row(6, { kind: 'fill', artifact: { fills: [] }, groundedInRoster: false });
    const quoted = row(9).replace('"iterations":1', '"iterations":"3"');
    const file = path.join(dir, 'limits.jsonl');
    writeFileSync(file, row(0) + torn + '\n' + ungrounded + quoted);
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const [view] = documentedBlock()
        .replaceAll("'sessions.jsonl'", `'${file}'`)
        .split(/;\s*\n/);
      await connection.run(view ?? '');
      const plain = (
        await connection.runAndReadAll(
          'SELECT session_id, iterations FROM sessions ORDER BY session_id',
        )
      ).getRowObjectsJS();
      // The fragment took the ungrounded row with it, and "3" reads as the number 3.
      assert.deepEqual(
        plain.map((r) => [r['session_id'], Number(r['iterations'])]),
        [
          ['s0', 1],
          ['s9', 3],
        ],
      );
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
    const report = await runSessionReport(file);
    assert.deepEqual(report.lines, {
      rows: 3,
      unreadable: 1,
      otherSchema: 0,
      malformed: 1,
      oversized: 0,
    });
    assert.equal((await checkSessionAlarm(file)).found, 1);
  });

  it('no document shows the bare read_json_auto form as the way to query the log', () => {
    for (const file of ['README.md', 'deploy/README.md', 'packages/session-log/README.md']) {
      for (const match of read(file).matchAll(/read_json(_auto)?\([^)]*\)/g)) {
        const text = match[0];
        const context = read(file).slice(Math.max(0, (match.index ?? 0) - 200), match.index);
        const documented = text.includes('columns') || /bare|SPEC/.test(context);
        assert.ok(documented, `${file}: ${text}`);
      }
    }
  });
});
