// The offline trace file (LANGFUSE_TRACE_FILE) is opened like the session log: a FIFO, directory
// or device is refused at start-up naming the variable, and one that appears later is never
// opened blocking (a FIFO with no reader would hang the export and with it the shutdown).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { postJson, sharedRoster, startService } from './harness.js';
import { readSessionFile, reportEvidence } from './faults-helpers.js';

describe('faults: a FIFO as LANGFUSE_TRACE_FILE', () => {
  it('both services refuse it at start-up (exit 2 naming LANGFUSE_TRACE_FILE)', async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lakehouse-trace-fifo-'));
    try {
      const fifo = path.join(dir, 'traces.fifo');
      execFileSync('mkfifo', [fifo]);
      const messages: string[] = [];
      for (const name of ['gateway', 'chatd'] as const) {
        const error = await startService(name, {
          ROSTER_PATH: await sharedRoster(),
          LANGFUSE_TRACE_FILE: fifo,
        }).then(
          async (s) => {
            await s.stop();
            return new Error(`${name} started`);
          },
          (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
        );
        assert.match(error.message, /exited with code 2[\s\S]*LANGFUSE_TRACE_FILE: .*is a FIFO/);
        messages.push(/LANGFUSE_TRACE_FILE[^\n]*/.exec(error.message)?.[0] ?? '');
      }
      reportEvidence(t, {
        fault: 'trace file: a reader-less FIFO as LANGFUSE_TRACE_FILE',
        expectation: 'gateway and chatd exit 2 at start-up naming the variable (never block)',
        evidence: `exit 2 ×2; "${messages[0]?.slice(0, 100)}"`,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a FIFO that takes the trace file path after start-up: sessions answer, shutdown exits 0', async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lakehouse-trace-fifo-'));
    const traceFile = path.join(dir, 'traces.jsonl');
    const sessionLog = path.join(dir, 'sessions.jsonl');
    const gateway = await startService('gateway', {
      ROSTER_PATH: await sharedRoster(),
      // No chatd: every session is an infra_error, which still exports its spans.
      CHATD_URL: 'http://127.0.0.1:9',
      SESSION_LOG_PATH: sessionLog,
      LANGFUSE_TRACE_FILE: traceFile,
    });
    try {
      // Before the first export opens it: the path is now a FIFO no one reads.
      execFileSync('mkfifo', [traceFile]);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await postJson(`${gateway.url}/v1/iterate`, {
          kind: 'email',
          prompt: 'x',
          provider: 'sim',
          model: 'clean',
          max_iterations: 1,
        });
        statuses.push(res.status);
      }
      // stop() SIGKILLs past its deadline, and a killed gateway does not exit 0.
      const code = await gateway.stop(20_000);
      const rows = readSessionFile(sessionLog).rows.length;
      const evidence = `statuses ${statuses.join(',')}; exit ${code}; rows ${rows}`;
      t.diagnostic(evidence);
      assert.deepEqual(statuses, [502, 502, 502, 502, 502]);
      assert.equal(code, 0, 'shutdown finished (the export never blocked on the FIFO)');
      assert.equal(rows, 5);
      reportEvidence(t, {
        fault: 'trace file: the LANGFUSE_TRACE_FILE path replaced by a FIFO after start-up',
        expectation: 'opened non-blocking and refused as not a regular file: answers, rows, exit 0',
        evidence,
      });
    } finally {
      await gateway.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
