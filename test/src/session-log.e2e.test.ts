import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { eventually, freePort, postJson } from '@lakehouse/test-support';
import { fillRequest, readJsonLines, sharedRoster, startService, startStack } from './harness.js';
import type { Stack } from './harness.js';

type Row = Record<string, unknown> & { attempts: Array<Record<string, unknown>> };

describe('session log: one row per /v1/iterate call on every path', () => {
  let stack: Stack;
  const responses: Array<{ path: string; status: number; traceId: string }> = [];

  before(async () => {
    stack = await startStack({ gatewayEnv: { CHAT_TIMEOUT_MS: '2000' } });
    const cases: Array<[string, Record<string, unknown>]> = [
      ['accepted', await fillRequest('clean')],
      ['retried', await fillRequest('phantom-once')],
      ['max_iter_exhausted', await fillRequest('phantom-always', { max_iterations: 2 })],
      ['no_json then accepted', await fillRequest('prose-once')],
      ['unknown provider', { ...(await fillRequest('clean')), provider: 'missing-provider' }],
      [
        'email',
        {
          kind: 'email',
          prompt: 'Write to the client <ops> & "team"',
          provider: 'sim',
          model: 'clean',
        },
      ],
    ];
    for (const [name, body] of cases) {
      const res = await postJson(`${stack.gateway.url}/v1/iterate`, body);
      responses.push({ path: name, status: res.status, traceId: String(res.body.trace_id) });
    }
    // Requests rejected before a session began leave no row.
    const bad = await postJson(`${stack.gateway.url}/v1/iterate`, { kind: 'nope' });
    assert.equal(bad.status, 400);
    await stack.gateway.stop();
  });
  after(async () => {
    await stack?.stop();
  });

  it('writes exactly one row per session, keyed by the response trace id', () => {
    const rows = readJsonLines<Row>(stack.sessionLogPath);
    assert.equal(rows.length, responses.length);
    for (const response of responses) {
      const matching = rows.filter((r) => r.session_id === response.traceId);
      assert.equal(matching.length, 1, `${response.path}: one row for ${response.traceId}`);
    }
    const byPath = Object.fromEntries(
      responses.map((r) => [r.path, rows.find((row) => row.session_id === r.traceId)!]),
    );
    assert.equal(byPath.accepted!.final_verdict, 'accepted');
    assert.equal(byPath.accepted!.grounded_in_roster, true);
    assert.equal(byPath.max_iter_exhausted!.final_verdict, 'max_iter_exhausted');
    assert.equal(byPath.max_iter_exhausted!.grounded_in_roster, null);
    assert.equal(
      'artifact' in byPath.max_iter_exhausted!,
      false,
      'artifact omitted when not accepted',
    );
    assert.deepEqual(
      byPath['no_json then accepted']!.attempts.map((a) => a.verdict_kind),
      ['no_json', 'accepted'],
    );
    assert.equal(byPath['unknown provider']!.final_verdict, 'infra_error');
    assert.equal(byPath.email!.grounded_in_roster, null);
    for (const row of rows) {
      assert.deepEqual(Object.keys(row).slice(0, 3), ['schema', 'session_id', 'timestamp']);
      assert.equal(row.schema, 'session.iterate.v1');
      assert.equal(row.daemon, 'gateway');
      for (const attempt of row.attempts) assert.match(String(attempt.span_id), /^[0-9a-f]{16}$/);
    }
    assert.ok(
      readFileSync(stack.sessionLogPath, 'utf8').includes('<ops> & \\"team\\"'),
      'no HTML escaping',
    );
  });

  it('reads every row with DuckDB read_json_auto(format=nd)', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const reader = await connection.runAndReadAll(
        `SELECT count(*) AS n, count(session_id) AS ids FROM read_json_auto('${stack.sessionLogPath}', format='nd')`,
      );
      const [n, ids] = reader.getRows()[0]!;
      assert.equal(Number(n), responses.length);
      assert.equal(Number(ids), responses.length);
      const alarm = await connection.runAndReadAll(
        `SELECT count(*) FROM read_json_auto('${stack.sessionLogPath}', format='nd') WHERE kind='fill' AND final_verdict='accepted' AND grounded_in_roster = false`,
      );
      assert.equal(Number(alarm.getRows()[0]![0]), 0, 'the alarm query is empty');
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});

describe('session log: infra paths and a failing sink', () => {
  it('writes an infra_error row when the validate hop fails after the session began', async () => {
    const stack = await startStack({
      gatewayEnv: { GATEWAY_SELF_URL: `http://127.0.0.1:${await freePort()}` },
    });
    try {
      const res = await postJson(`${stack.gateway.url}/v1/iterate`, await fillRequest('clean'));
      assert.equal(res.status, 502);
      assert.equal(res.body.final_verdict, 'infra_error');
      const row = await eventually(
        () => readJsonLines<Row>(stack.sessionLogPath)[0],
        10_000,
        'the row',
      );
      assert.equal(row.session_id, res.body.trace_id);
      assert.equal(row.final_verdict, 'infra_error');
      assert.equal(row.attempts[0]?.verdict_kind, 'infra_error');
    } finally {
      await stack.stop();
    }
  });

  it('keeps answering with an unwritable path, warns, and counts the failure', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lakehouse-ro-'));
    const readOnly = path.join(dir, 'ro');
    mkdirSync(readOnly);
    chmodSync(readOnly, 0o500);
    // root ignores directory permissions, so also try a path under a regular file.
    const blockedPath =
      process.getuid?.() === 0
        ? path.join(dir, 'file-not-dir', 'sessions.jsonl')
        : path.join(readOnly, 'sessions.jsonl');
    if (process.getuid?.() === 0) writeFileSync(path.join(dir, 'file-not-dir'), 'x');
    const stack = await startStack({
      gatewayEnv: { SESSION_LOG_PATH: blockedPath, LOG_LEVEL: 'warn' },
    });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await postJson(`${stack.gateway.url}/v1/iterate`, await fillRequest('clean'));
        assert.equal(res.status, 200);
      }
      await eventually(
        () =>
          stack.gateway.lines.some((l) => /session.log/i.test(l) && /warn/.test(l))
            ? true
            : undefined,
        10_000,
        'a warning',
      );
      const failures = await eventually(
        async () => {
          const text = await (await fetch(`${stack.gateway.url}/metrics`)).text();
          return text
            .split('\n')
            .find(
              (l) => /^lakehouse_session_log_write_failures\w*(\{|\s)/.test(l) && !/ 0$/.test(l),
            );
        },
        10_000,
        'lakehouse_session_log_write_failures > 0',
      );
      assert.ok(failures);
    } finally {
      await stack.stop();
      chmodSync(readOnly, 0o700);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('survives the log directory being removed mid-run and writes again once it is back', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lakehouse-vanish-'));
    const logDir = path.join(dir, 'logs');
    mkdirSync(logDir);
    const logPath = path.join(logDir, 'sessions.jsonl');
    const stack = await startStack({ gatewayEnv: { SESSION_LOG_PATH: logPath } });
    try {
      assert.equal(
        (await postJson(`${stack.gateway.url}/v1/iterate`, await fillRequest('clean'))).status,
        200,
      );
      await eventually(
        () => (readJsonLines<Row>(logPath).length === 1 ? true : undefined),
        10_000,
        'first row',
      );
      rmSync(logDir, { recursive: true, force: true });
      assert.equal(
        (await postJson(`${stack.gateway.url}/v1/iterate`, await fillRequest('clean'))).status,
        200,
      );
      mkdirSync(logDir);
      const res = await postJson(`${stack.gateway.url}/v1/iterate`, await fillRequest('clean'));
      assert.equal(res.status, 200);
      await eventually(
        () =>
          readJsonLines<Row>(logPath).some((r) => r.session_id === res.body.trace_id)
            ? true
            : undefined,
        10_000,
        'a row after recovery',
      );
    } finally {
      await stack.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes rows with tracing off (OTEL_SDK_DISABLED) and omits span_id', async () => {
    const stack = await startStack({ env: { OTEL_SDK_DISABLED: 'true' } });
    try {
      const res = await postJson(
        `${stack.gateway.url}/v1/iterate`,
        await fillRequest('phantom-once'),
      );
      assert.equal(res.status, 200);
      assert.match(String(res.body.trace_id), /^[0-9a-f]{32}$/);
      const row = await eventually(
        () => readJsonLines<Row>(stack.sessionLogPath)[0],
        10_000,
        'the row',
      );
      assert.equal(row.session_id, res.body.trace_id);
      for (const attempt of row.attempts) assert.equal('span_id' in attempt, false);
    } finally {
      await stack.stop();
    }
  });

  it('refuses a FIFO as SESSION_LOG_PATH at start-up (exit 2 naming it) instead of blocking forever', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lakehouse-fifo-'));
    try {
      const fifo = path.join(dir, 'sessions.fifo');
      execFileSync('mkfifo', [fifo]);
      await assert.rejects(
        startService('gateway', { ROSTER_PATH: await sharedRoster(), SESSION_LOG_PATH: fifo }),
        /exited with code 2[\s\S]*SESSION_LOG_PATH: .*is a FIFO/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
