// SIGTERM while sessions cannot answer yet: a session is counted until it has ended (row written),
// not until its client's connection closes; a session that outlasts the shutdown grace is ended
// (its hops aborted) so it still leaves its row, its trace and an answer.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { eventually, postJson, sharedRoster, startService } from './harness.js';
import type { ServiceHandle } from './harness.js';
import type { HoldingChatd } from './chatd-stand-ins.js';
import { readSessionFile, reportEvidence } from './faults-helpers.js';
import { startHoldingChatd } from './chatd-stand-ins.js';

const EMAIL = { kind: 'email', prompt: 'write it', provider: 'sim', model: 'x', max_iterations: 1 };

/** A gateway in front of a holding chatd, writing its rows and traces to a fresh temp dir. */
interface DrainRig {
  chatd: HoldingChatd;
  gateway: ServiceHandle;
  sessionLog: string;
  traceFile: string;
  close(): Promise<void>;
}

async function startDrainRig(env: Record<string, string>): Promise<DrainRig> {
  const chatd = await startHoldingChatd();
  const dir = mkdtempSync(path.join(tmpdir(), 'lakehouse-drain-'));
  const sessionLog = path.join(dir, 'sessions.jsonl');
  const traceFile = path.join(dir, 'traces.jsonl');
  const gateway = await startService('gateway', {
    CHATD_URL: chatd.stub.url,
    ROSTER_PATH: await sharedRoster(),
    SESSION_LOG_PATH: sessionLog,
    LANGFUSE_TRACE_FILE: traceFile,
    ...env,
  });
  return {
    chatd,
    gateway,
    sessionLog,
    traceFile,
    async close() {
      chatd.release();
      await gateway.stop();
      await chatd.stub.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function traceFileHas(file: string, text: string): boolean {
  try {
    return readFileSync(file, 'utf8').includes(text);
  } catch {
    return false;
  }
}

describe('faults: SIGTERM with sessions that cannot answer yet', () => {
  it('a session whose client hung up is still waited for: row and trace before exit', async (t) => {
    const rig = await startDrainRig({ LOG_LEVEL: 'info' });
    const { chatd, gateway, sessionLog, traceFile } = rig;
    try {
      const body = JSON.stringify(EMAIL);
      const socket = net.connect(gateway.port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(
        `POST /v1/iterate HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      await eventually(
        () => (chatd.held() === 1 ? true : undefined),
        10_000,
        'chatd to hold the session',
      );
      socket.destroy();
      // The precondition: the gateway saw its client go while the session was still running.
      await eventually(
        () => (gateway.lines.some((l) => l.includes('client went away')) ? true : undefined),
        10_000,
        'the gateway to notice the client hung up',
      );
      const exited = gateway.stop(30_000);
      await eventually(
        () => (gateway.lines.some((l) => l.includes('shutting down')) ? true : undefined),
        10_000,
        'the gateway to start draining',
      );
      const earlyExit = gateway.exited();
      const rowsBeforeRelease = readSessionFile(sessionLog).rows.length;
      chatd.release();
      const code = await exited;
      const { rows } = readSessionFile(sessionLog);
      const traced = traceFileHas(traceFile, 'iterate email');
      const evidence = `exited before the session ended: ${earlyExit}; exit ${code}; rows ${rows.length} (${rowsBeforeRelease} before chatd answered); iterate span in the trace file: ${traced}`;
      t.diagnostic(evidence);
      assert.equal(code, 0);
      assert.equal(rows.length, 1, 'the session that began has its row');
      assert.equal(rows[0]?.['final_verdict'], 'accepted');
      assert.ok(traced, 'its trace was flushed');
      reportEvidence(t, {
        fault: 'SIGTERM after a client hung up on its running session',
        expectation: 'the gateway waits for the session to end: row and trace written, exit 0',
        evidence,
      });
    } finally {
      await rig.close();
    }
  });

  it('a session longer than the shutdown grace ends infra_error: answer, row and trace, exit 0', async (t) => {
    // The chat hop would wait 240 s (CHAT_TIMEOUT_MS's default); the grace is 1.5 s.
    const rig = await startDrainRig({ SHUTDOWN_GRACE_MS: '1500' });
    const { chatd, gateway, sessionLog, traceFile } = rig;
    try {
      const answer = postJson(`${gateway.url}/v1/iterate`, EMAIL).catch(
        (err: unknown) =>
          ({ status: 0, body: { error: String((err as Error).cause ?? err) } }) as const,
      );
      await eventually(
        () => (chatd.held() === 1 ? true : undefined),
        10_000,
        'chatd to hold the session',
      );
      const code = await gateway.stop(30_000);
      const res = await answer;
      const { rows } = readSessionFile(sessionLog);
      const traced = traceFileHas(traceFile, 'iterate email');
      const evidence = `answer ${res.status} ${JSON.stringify(res.body.error ?? '').slice(0, 90)}; exit ${code}; rows ${rows.length} (${String(rows[0]?.['final_verdict'])}); iterate span in the trace file: ${traced}`;
      t.diagnostic(evidence);
      assert.equal(res.status, 502, JSON.stringify(res.body));
      assert.equal(res.body['final_verdict'], 'infra_error');
      assert.match(String(res.body['error']), /shutting down/);
      assert.equal(code, 0);
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.['final_verdict'], 'infra_error');
      assert.ok(traced, 'its trace was flushed');
      reportEvidence(t, {
        fault:
          'SIGTERM with a session held by chatd past the shutdown grace (SHUTDOWN_GRACE_MS=1500)',
        expectation:
          'at grace end its hops are aborted: 502 infra_error, row and trace written, exit 0',
        evidence,
      });
    } finally {
      await rig.close();
    }
  });
});
