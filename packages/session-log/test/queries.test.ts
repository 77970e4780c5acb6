import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  SessionLogNotFoundError,
  encodeSessionRecord,
  runSessionAlarm,
  runSessionReport,
  runSessionSql,
} from '../src/index.js';
import type { SessionRecord } from '../src/index.js';
import { DIST_SRC } from './helpers.js';

const CLI = join(DIST_SRC, 'sessions-cli.js');

function row(i: number, overrides: Partial<SessionRecord> = {}): string {
  const accepted = i % 4 !== 3;
  return encodeSessionRecord({
    sessionId: i.toString(16).padStart(32, '0'),
    timestamp: `2026-05-02T07:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.000000Z`,
    daemon: 'gateway',
    kind: i % 5 === 0 ? 'email' : 'fill',
    model: i % 2 === 0 ? 'clean' : 'phantom-once',
    provider: 'sim',
    prompt: `prompt ${i}`,
    iterations: accepted ? 1 + (i % 2) : 3,
    maxIterations: 3,
    finalVerdict: accepted ? 'accepted' : 'max_iter_exhausted',
    attempts: accepted
      ? i % 2 === 1
        ? [
            {
              iteration: 0,
              verdictKind: 'validation_failed',
              error: 'candidate_id W-999999 not in roster',
            },
            { iteration: 1, verdictKind: 'accepted' },
          ]
        : [{ iteration: 0, verdictKind: 'accepted' }]
      : [
          {
            iteration: 0,
            verdictKind: 'validation_failed',
            error: 'candidate_id W-999999 not in roster',
          },
          { iteration: 1, verdictKind: 'no_json', error: 'no JSON' },
          { iteration: 2, verdictKind: 'validation_failed', error: 'fills: expected 2, got 1' },
        ],
    ...(accepted ? { artifact: { fills: [{ candidate_id: `W-${i}` }] } } : {}),
    groundedInRoster: accepted && i % 5 !== 0 ? true : null,
    durationMs: i,
    ...overrides,
  });
}

function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let dir: string;
let clean: string;
let bad: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'session-log-duck-'));
  clean = join(dir, 'clean.jsonl');
  bad = join(dir, 'bad.jsonl');
  let text = '';
  for (let i = 0; i < 400; i++) text += row(i);
  writeFileSync(clean, text + 'not json at all\n');
  writeFileSync(
    bad,
    row(1000) + row(1001, { groundedInRoster: false }) + row(1005, { groundedInRoster: false }),
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('DuckDB queries', () => {
  it('report: verdict mix, attempts, percentiles and top validation errors', async () => {
    const report = await runSessionReport(clean);
    assert.equal(report.totals['sessions'], 400);
    assert.equal(report.totals['accepted'], 300);
    const total = report.verdictMix.reduce((n, r) => n + Number(r['sessions']), 0);
    assert.equal(total, 400);
    const fillClean = report.verdictMix.find((r) => r['kind'] === 'fill' && r['model'] === 'clean');
    assert.ok(fillClean !== undefined);
    assert.deepEqual(
      report.attempts.map((r) => [r['iterations'], r['sessions']]),
      [
        [1, 200],
        [2, 100],
        [3, 100],
      ],
    );
    const all = report.durations.find((r) => r['kind'] === '(all)');
    assert.equal(all?.['p50_ms'], 199.5);
    assert.equal(all?.['max_ms'], 399);
    assert.equal(report.topValidationErrors[0]?.['error'], 'candidate_id W-999999 not in roster');
    assert.equal(report.topValidationErrors[0]?.['attempts'], 200);
    assert.equal(report.topValidationErrors[1]?.['error'], 'fills: expected 2, got 1');
  });

  it('alarm: empty on a clean log, the offending rows otherwise (email rows never count)', async () => {
    assert.deepEqual(await runSessionAlarm(clean), []);
    const rows = await runSessionAlarm(bad);
    assert.deepEqual(
      rows.map((r) => r['session_id']),
      [(1001).toString(16).padStart(32, '0')],
    );
  });

  it('reads a glob of several files and keys first seen after the sample', async () => {
    const late = join(dir, 'late.jsonl');
    let text = '';
    for (let i = 0; i < 21_000; i++)
      text += row(3, {
        attempts: [],
        finalVerdict: 'infra_error',
        artifact: undefined,
        groundedInRoster: null,
      });
    text += row(1);
    writeFileSync(late, text);
    const [count] = await runSessionSql(
      join(dir, '*.jsonl'),
      'SELECT count(*) AS n, count(artifact) AS with_artifact FROM sessions',
    );
    assert.equal(count?.['n'], 400 + 3 + 21_001);
    assert.equal(count?.['with_artifact'], 300 + 3 + 1);
    rmSync(late);
  });

  it('a missing file is a SessionLogNotFoundError', async () => {
    await assert.rejects(runSessionReport(join(dir, 'nope.jsonl')), SessionLogNotFoundError);
    await assert.rejects(runSessionAlarm(join(dir, 'nope-*.jsonl')), SessionLogNotFoundError);
  });
});

describe('sessions CLI', () => {
  it('report prints aligned tables; --json prints the report object', async () => {
    const text = await runCli(['report', '--file', clean]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /verdict mix by kind \/ model \/ provider/);
    assert.match(text.stdout, /candidate_id W-999999 not in roster/);
    const json = await runCli(['report', '--file', clean, '--json']);
    assert.equal(
      (JSON.parse(json.stdout) as { totals: { sessions: number } }).totals.sessions,
      400,
    );
  });

  it('alarm exits 0 with OK on a clean log and 1 with the rows otherwise', async () => {
    const ok = await runCli(['alarm'], { SESSION_LOG_PATH: clean });
    assert.equal(ok.code, 0);
    assert.equal(ok.stdout, 'OK: no ungrounded accepted fills\n');
    const alarm = await runCli(['alarm', '--file', bad]);
    assert.equal(alarm.code, 1);
    assert.match(alarm.stdout, /ALARM: 1 accepted fill row/);
    assert.match(alarm.stdout, /000000000000000000000000000003e9/);
    const json = await runCli(['alarm', '--file', bad, '--json']);
    assert.equal(json.code, 1);
    assert.equal((JSON.parse(json.stdout) as { ok: boolean }).ok, false);
  });

  it('sql runs against the sessions view', async () => {
    const out = await runCli([
      'sql',
      'SELECT kind, count(*) AS n FROM sessions GROUP BY kind ORDER BY kind',
      '--file',
      clean,
      '--json',
    ]);
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout), [
      { kind: 'email', n: 80 },
      { kind: 'fill', n: 320 },
    ]);
  });

  it('a missing file or bad usage is a clear message and exit 1', async () => {
    const missing = await runCli(['report', '--file', join(dir, 'missing.jsonl')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /session log not found: .*missing\.jsonl/);
    const usage = await runCli(['frobnicate']);
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /unknown command/);
  });
});
