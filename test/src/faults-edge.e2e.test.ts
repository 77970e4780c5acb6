// Every route gated, every request bounded in time (issue #12, invariant 5), on the real services:
// path spellings that reach /v1/iterate during the SIGTERM drain, bodies and headers dribbled a
// byte at a time, and more sockets than MAX_CONNECTIONS (faults-connections.e2e: the hops' side).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { eventually, postJson, sharedRoster, startService } from './harness.js';
import { metricSum, readSessionFile, reportEvidence } from './faults-helpers.js';
import { startHoldingChatd } from './chatd-stand-ins.js';

/** A socket that sends `head` then one byte every `everyMs`; resolves how it ended. */
function dribble(
  port: number,
  head: string,
  everyMs: number,
  maxBytes: number,
): Promise<{ sent: number; answer: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let sent = 0;
    let answer = '';
    let timer: NodeJS.Timeout | undefined;
    socket.on('data', (c: Buffer) => (answer += c.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ sent, answer, closedByServer: sent < maxBytes });
    });
    socket.on('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (sent >= maxBytes) {
          clearInterval(timer);
          socket.destroy();
          return;
        }
        sent += 1;
        socket.write('a');
      }, everyMs);
    });
  });
}

describe('faults: route gating and request bounds', () => {
  it('every spelling of /v1/iterate is gated by the drain and counted as in flight', async (t) => {
    // A stand-in chatd that holds its answer until told: the session is in flight at SIGTERM.
    const chatd = await startHoldingChatd();
    const dir = mkdtempSync(path.join(tmpdir(), 'lakehouse-gate-'));
    const sessionLogPath = path.join(dir, 'sessions.jsonl');
    const gateway = await startService('gateway', {
      CHATD_URL: chatd.stub.url,
      ROSTER_PATH: await sharedRoster(),
      SESSION_LOG_PATH: sessionLogPath,
      LOG_LEVEL: 'info',
    });
    try {
      const body = { kind: 'email', prompt: 'write', provider: 'sim', model: 'x' };
      const inFlight = postJson(`${gateway.url}/V1/ITERATE`, body);
      await eventually(
        () => (chatd.held() === 1 ? true : undefined),
        10_000,
        'the /V1/ITERATE session to reach chatd',
      );
      const exited = gateway.stop(20_000);
      await eventually(
        () => (gateway.lines.some((l) => l.includes('shutting down')) ? true : undefined),
        10_000,
        'the gateway to start draining',
      );
      const refused = [];
      for (const p of ['/v1/iterate/', '/V1/Iterate', '/v1/iterate?x=1', '/readyz']) {
        const method = p === '/readyz' ? 'GET' : 'POST';
        const res = await fetch(`${gateway.url}${p}`, {
          method,
          headers: { 'content-type': 'application/json' },
          ...(method === 'POST' ? { body: JSON.stringify(body) } : {}),
        });
        refused.push({ path: p, status: res.status, text: await res.text() });
      }
      chatd.release();
      const answered = await inFlight;
      const code = await exited;
      // Counted as in flight: the listener stayed open for its validate hop, so it was accepted.
      assert.equal(answered.status, 200, JSON.stringify(answered.body));
      for (const r of refused) {
        assert.equal(r.status, 503, `${r.path}: ${r.text}`);
        assert.match(r.text, /shutting down/);
      }
      assert.equal(code, 0);
      const rows = readSessionFile(sessionLogPath).rows;
      assert.equal(rows.length, 1, 'one row: the session that began');
      reportEvidence(t, {
        fault:
          'gating: SIGTERM with POST /V1/ITERATE in flight, then /v1/iterate/, /V1/Iterate, /v1/iterate?x=1, /readyz',
        expectation:
          'the in-flight session finishes 200 (it was counted); every spelling refused 503',
        evidence: `in flight ${answered.status}; later ${refused.map((r) => r.status).join(', ')}; exit ${code}; rows ${rows.length}`,
      });
    } finally {
      chatd.release();
      await gateway.stop();
      await chatd.stub.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const name of ['gateway', 'chatd'] as const) {
    it(`${name}: a body or headers dribbled a byte at a time are cut at the request timeout`, async (t) => {
      const service = await startService(name, {
        HEADERS_TIMEOUT_MS: '1000',
        REQUEST_TIMEOUT_MS: '2000',
        ROSTER_PATH: '/nonexistent/roster.parquet',
      });
      try {
        const path = name === 'gateway' ? '/v1/iterate' : '/v1/chat';
        // 120 bytes at one per 250 ms would take 30 s; the bounds are 1 s (headers) and 2 s (all).
        const body = await dribble(
          service.port,
          `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 120\r\n\r\n`,
          250,
          120,
        );
        const headers = await dribble(
          service.port,
          `GET /healthz HTTP/1.1\r\nhost: x\r\nx-slow: `,
          250,
          120,
        );
        for (const r of [body, headers]) {
          assert.ok(r.closedByServer, `the server kept the socket for all ${r.sent} bytes`);
          assert.match(r.answer, /^HTTP\/1\.1 408/, r.answer.slice(0, 80));
        }
        // The service still serves.
        assert.equal((await fetch(`${service.url}/healthz`)).status, 200);
        reportEvidence(t, {
          fault: `timeouts: ${name} gets a body, then headers, dribbled 1 byte / 250 ms (REQUEST_TIMEOUT_MS=2000, HEADERS_TIMEOUT_MS=1000)`,
          expectation: 'answered 408 and closed long before the dribble ends; service still up',
          evidence: `body: 408 after ${body.sent}/120 bytes; headers: 408 after ${headers.sent}/120 bytes; /healthz 200`,
        });
      } finally {
        await service.stop();
      }
    });
  }

  it('sockets past MAX_CONNECTIONS close the longest-idle ones, are counted and logged once; the service keeps serving', async (t) => {
    const service = await startService('chatd', {
      MAX_CONNECTIONS: '4',
      ROSTER_PATH: '/nonexistent/roster.parquet',
    });
    const sockets: net.Socket[] = [];
    try {
      const closed: boolean[] = [];
      for (let i = 0; i < 12; i++) {
        const socket = net.connect(service.port, '127.0.0.1');
        socket.on('error', () => undefined);
        const index = closed.push(false) - 1;
        socket.on('close', () => (closed[index] = true));
        sockets.push(socket);
        await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      }
      const dropped = await eventually(
        () => {
          const n = closed.filter(Boolean).length;
          return n >= 8 ? n : undefined;
        },
        10_000,
        'the sockets past the cap to be closed',
      );
      for (const s of sockets) s.destroy();
      const counted = await eventually(
        async () => {
          // Until the server has seen the idle sockets close, a new one is past the cap too.
          const n = await metricSum(service.url, 'lakehouse_http_connections_dropped_total').catch(
            () => 0,
          );
          return n >= 8 ? n : undefined;
        },
        10_000,
        'the dropped connections counted',
      );
      assert.ok(
        service.lines.some((l) => l.includes('MAX_CONNECTIONS reached')),
        'logged once',
      );
      assert.equal(service.lines.filter((l) => l.includes('MAX_CONNECTIONS reached')).length, 1);
      reportEvidence(t, {
        fault: 'connection cap: 12 idle sockets against MAX_CONNECTIONS=4',
        expectation:
          '8 closed (each new idle socket takes the place of the longest idle one), counted, logged once; service serves after',
        evidence: `${dropped} closed by the server; lakehouse_http_connections_dropped_total ${counted}; /metrics answered`,
      });
    } finally {
      for (const s of sockets) s.destroy();
      await service.stop();
    }
  });
});
