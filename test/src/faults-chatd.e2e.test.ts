// Faults on the chatd side of the gateway: chatd killed mid-session, hanging, or answering garbage.
// Every case must give a correct HTTP answer, one session row, and a flushed trace tree.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type http from 'node:http';
import { eventually, postJson, startOtlpReceiver, startStubServer } from '@lakehouse/test-support';
import { fillRequest, sharedRoster, startService, startStack } from './harness.js';
import type { ServiceHandle } from './harness.js';
import type { OtlpReceiver, StubRequest, StubServer } from '@lakehouse/test-support';
import { randomTraceId } from '@lakehouse/telemetry';
import { readSessionFile, reportEvidence, rssMiB } from './faults-helpers.js';
import { buildTraces } from './langfuse-tree.js';

const LANGFUSE = { LANGFUSE_PUBLIC_KEY: 'pk-lf-faults', LANGFUSE_SECRET_KEY: 'sk-lf-faults' };
const TRACE_HEADER = 'x-lakehouse-trace-id';

type Answer = (req: StubRequest, res: http.ServerResponse) => void;

function chatReply(content: unknown): string {
  return JSON.stringify({
    provider: 'sim',
    model: 'stub',
    content,
    finish_reason: 'stop',
    usage: { input_tokens: 1, output_tokens: 1 },
  });
}

describe('faults: chatd misbehaving behind a real gateway (stub chatd, Langfuse stand-in)', () => {
  let stub: StubServer;
  let receiver: OtlpReceiver;
  let gateway: ServiceHandle;
  let dir: string;
  let sessionLogPath: string;
  let answer: Answer = (_req, res) => res.writeHead(500).end();
  const sessions: Array<{ name: string; traceId: string; status: number }> = [];

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lakehouse-faults-chatd-'));
    sessionLogPath = path.join(dir, 'sessions.jsonl');
    stub = await startStubServer((req, res) => answer(req, res));
    receiver = await startOtlpReceiver();
    gateway = await startService('gateway', {
      ROSTER_PATH: await sharedRoster(),
      CHATD_URL: stub.url,
      SESSION_LOG_PATH: sessionLogPath,
      CHAT_TIMEOUT_MS: '1500',
      LANGFUSE_BASE_URL: receiver.url,
      ...LANGFUSE,
    });
  });
  after(async () => {
    await gateway?.stop();
    await stub?.close();
    await receiver?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function session(
    name: string,
    body: Record<string, unknown>,
    expectedStatus: number,
    verdict: string,
  ) {
    const res = await postJson(`${gateway.url}/v1/iterate`, body);
    assert.equal(res.status, expectedStatus, `${name}: ${JSON.stringify(res.body).slice(0, 300)}`);
    assert.equal(res.body.final_verdict, verdict);
    const traceId = String(res.body.trace_id);
    assert.match(traceId, /^[0-9a-f]{32}$/);
    assert.equal(res.headers.get(TRACE_HEADER), traceId);
    sessions.push({ name, traceId, status: res.status });
    const row = await eventually(
      () => readSessionFile(sessionLogPath).rows.find((r) => r.session_id === traceId),
      15_000,
      `the session row of ${name}`,
    );
    assert.equal(row.final_verdict, verdict);
    return res;
  }

  const garbage: Array<{
    name: string;
    answer: Answer;
    status: number;
    verdict: string;
    error: RegExp;
    maxIterations?: number;
  }> = [
    {
      name: 'chatd destroys the socket after the headers and half the body',
      answer: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' });
        // Cut once the headers and the half body have left for the gateway (the write's callback).
        res.write('{"content":"Here are the fills: {\\"fills\\":[', () => res.socket?.destroy());
      },
      status: 502,
      verdict: 'infra_error',
      error: /chatd (unreachable|failed)/,
    },
    {
      name: 'chatd destroys the socket before answering',
      answer: (_req, res) => res.socket?.destroy(),
      status: 502,
      verdict: 'infra_error',
      error: /chatd unreachable/,
    },
    {
      name: 'chatd hangs (never answers) past CHAT_TIMEOUT_MS',
      answer: () => undefined,
      status: 502,
      verdict: 'infra_error',
      error: /timed out/,
    },
    {
      name: 'chatd answers 200 with an HTML page',
      answer: (_req, res) =>
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end('<html><body>502 Bad Gateway</body></html>'),
      status: 502,
      verdict: 'infra_error',
      error: /without a string content/,
    },
    {
      name: 'chatd answers 200 with truncated JSON',
      answer: (_req, res) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"content":"abc'),
      status: 502,
      verdict: 'infra_error',
      error: /without a string content/,
    },
    {
      name: 'chatd answers 200 with the wrong shape (content is a number)',
      answer: (_req, res) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(chatReply(42)),
      status: 502,
      verdict: 'infra_error',
      error: /without a string content/,
    },
    {
      name: 'chatd answers 200 with a JSON array',
      answer: (_req, res) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end('[1,2,3]'),
      status: 502,
      verdict: 'infra_error',
      error: /without a string content/,
    },
    {
      name: 'chatd answers 500 with an HTML error page',
      answer: (_req, res) =>
        res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>Internal Server Error</h1>'),
      status: 502,
      verdict: 'infra_error',
      error: /chatd failed \(500\)/,
    },
    {
      name: 'chatd answers 200 with prose and no JSON at all',
      answer: (_req, res) =>
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(chatReply('I cannot help with that {not json')),
      status: 422,
      verdict: 'max_iter_exhausted',
      error: /no acceptable fill artifact/,
      maxIterations: 2,
    },
    {
      name: 'chatd answers a 20,000-level nested artifact',
      answer: (_req, res) =>
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(chatReply(`{"fills":${'['.repeat(20_000)}${']'.repeat(20_000)}}`)),
      // Refused up front (past serde_json's 127 levels): never reaches the validator or the row encoder.
      status: 422,
      verdict: 'max_iter_exhausted',
      error: /nests deeper than 127 levels/,
    },
    {
      // Regression: this used to answer 200 and leave no session row (the encoder threw).
      name: 'chatd answers a fill carrying a 600-level extra key',
      answer: (_req, res) =>
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(chatReply(`{"fills":[],"x":${'['.repeat(600)}${']'.repeat(600)}}`)),
      status: 422,
      verdict: 'max_iter_exhausted',
      error: /nests deeper than 127 levels/,
    },
    {
      name: 'chatd answers with a body over the 16 MiB hop limit',
      answer: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = 'x'.repeat(1 << 20);
        res.write('{"content":"');
        for (let i = 0; i < 17; i++) res.write(chunk);
        res.end('"}');
      },
      status: 502,
      verdict: 'infra_error',
      error: /chatd (unreachable|failed)/,
    },
  ];

  for (const c of garbage) {
    it(`${c.name}: answers ${c.status} ${c.verdict} and writes the row`, async (t) => {
      answer = c.answer;
      const res = await session(
        c.name,
        await fillRequest('stub', { max_iterations: c.maxIterations ?? 1 }),
        c.status,
        c.verdict,
      );
      assert.match(String(res.body.error), c.error);
      assert.equal((await fetch(`${gateway.url}/healthz`)).status, 200, 'the gateway is still up');
      reportEvidence(t, {
        fault: c.name,
        expectation: `${c.status} ${c.verdict}, row written`,
        evidence: `${res.status} "${String(res.body.error).slice(0, 60)}", 1/1 row`,
      });
    });
  }

  it('huge 8 MiB replies, 16 sessions: answers 422, rows written, gateway memory stays bounded', async (t) => {
    const prose = `Sorry, no JSON here. ${'lorem ipsum dolor sit amet '.repeat((8 * 1024 * 1024) / 27)}`;
    const reply = chatReply(prose);
    answer = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(reply);
    const pid = gateway.child.pid;
    const count = 16;
    const baseline = rssMiB(pid) ?? 0;
    const peaks = [baseline, baseline];
    let half = 0;
    const sampler = setInterval(() => {
      peaks[half] = Math.max(peaks[half] ?? 0, rssMiB(pid) ?? 0);
    }, 20);
    const ids = new Set<string>();
    try {
      for (let i = 0; i < count; i++) {
        half = i < count / 2 ? 0 : 1;
        const res = await postJson(
          `${gateway.url}/v1/iterate`,
          await fillRequest('stub', { max_iterations: 2 }),
        );
        assert.equal(res.status, 422);
        assert.equal(res.body.final_verdict, 'max_iter_exhausted');
        ids.add(String(res.body.trace_id));
        sessions.push({
          name: 'huge reply',
          traceId: String(res.body.trace_id),
          status: res.status,
        });
      }
    } finally {
      clearInterval(sampler);
    }
    await eventually(
      () =>
        readSessionFile(sessionLogPath).rows.filter((r) => ids.has(String(r.session_id))).length ===
        count
          ? true
          : undefined,
      15_000,
      `${count} rows`,
    );
    const [first = 0, second = 0] = peaks;
    // 16 sessions x 2 attempts x 8 MiB = 256 MiB went through. GC makes RSS a sawtooth, so the
    // bound is coarse: no unbounded growth from the first half of the run to the second.
    assert.ok(
      Math.max(first, second) - baseline < 1024,
      `peak RSS growth ${(Math.max(first, second) - baseline).toFixed(0)} MiB`,
    );
    assert.ok(
      second < first + 400,
      `second-half peak ${second.toFixed(0)} MiB vs first-half ${first.toFixed(0)} MiB`,
    );
    reportEvidence(t, {
      fault: `chatd answers 8 MiB of prose, ${count} sessions`,
      expectation: '422 each, rows written, RSS bounded',
      evidence: `${count}/${count} rows, RSS ${baseline.toFixed(0)} MiB → peak ${first.toFixed(0)} (1st half) / ${second.toFixed(0)} (2nd half) MiB`,
    });
  });

  it('on SIGTERM, flushes one Langfuse tree per session and every row', async (t) => {
    const code = await gateway.stop();
    assert.equal(code, 0);
    const traces = buildTraces(receiver.spans);
    const { rows, badLines } = readSessionFile(sessionLogPath);
    assert.deepEqual(badLines, [], 'every line is one valid row');
    for (const s of sessions) {
      const trace = traces.get(s.traceId);
      assert.ok(trace, `${s.name}: the trace arrived`);
      assert.equal(trace.roots.length, 1, `${s.name}: one root`);
      assert.deepEqual(
        trace.dangling.map((d) => d.name),
        [],
        `${s.name}: no dangling parents`,
      );
      assert.equal(rows.filter((r) => r.session_id === s.traceId).length, 1, `${s.name}: one row`);
    }
    reportEvidence(t, {
      fault: 'SIGTERM after the chatd faults above',
      expectation: 'exit 0, one tree and one row per session',
      evidence: `${sessions.length}/${sessions.length} trees, ${rows.length}/${sessions.length} rows`,
    });
  });
});

/** Trace ids of the `chat request` lines chatd logged (at debug level): the calls it holds. */
function chatRequestsHeld(chatd: ServiceHandle): Set<string> {
  const held = new Set<string>();
  for (const line of chatd.lines) {
    try {
      const entry = JSON.parse(line) as { message?: unknown; trace_id?: unknown };
      if (entry.message === 'chat request' && typeof entry.trace_id === 'string') {
        held.add(entry.trace_id);
      }
    } catch {
      // not a log line
    }
  }
  return held;
}

describe('faults: the real chatd SIGKILLed with sessions in flight', () => {
  it('answers every in-flight session 502 infra_error, writes every row, and keeps serving', async (t) => {
    const stack = await startStack({
      // The latency only has to outlast the kill, which comes once chatd holds every call.
      chatdEnv: { SIM_LATENCY_MS: '120000', LOG_LEVEL: 'debug' },
      gatewayEnv: { CHAT_TIMEOUT_MS: '240000' },
    });
    try {
      const ids = Array.from({ length: 12 }, () => randomTraceId());
      const inFlight = ids.map(async (id) =>
        postJson(`${stack.gateway.url}/v1/iterate`, await fillRequest('clean'), {
          [TRACE_HEADER]: id,
        }),
      );
      // Precondition: chatd has received every session's chat call (its `chat request` line
      // carries the session's trace id), so each one is in flight when chatd dies.
      await eventually(
        () => (ids.every((id) => chatRequestsHeld(stack.chatd).has(id)) ? true : undefined),
        60_000,
        'chatd to hold all 12 chat calls',
      );
      const rssBefore = rssMiB(stack.gateway.child.pid);
      stack.chatd.child.kill('SIGKILL');
      const results = await Promise.all(inFlight);
      results.forEach((res, i) => {
        assert.equal(res.status, 502, JSON.stringify(res.body));
        assert.equal(res.body.final_verdict, 'infra_error');
        assert.equal(res.body.trace_id, ids[i], 'the session we saw arrive at chatd');
        // Killed mid-call: the socket was reset, not refused (that would be a call never made).
        assert.match(String(res.body.error), /chatd unreachable: ECONNRESET/);
        assert.equal(res.headers.get(TRACE_HEADER), res.body.trace_id);
      });
      const after = await postJson(`${stack.gateway.url}/v1/iterate`, await fillRequest('clean'));
      assert.equal(after.status, 502, 'a new session after the kill is a clean 502 too');
      assert.match(String(after.body.error), /chatd unreachable: ECONNREFUSED/);
      assert.equal((await fetch(`${stack.gateway.url}/healthz`)).status, 200);
      assert.equal((await fetch(`${stack.gateway.url}/readyz`)).status, 503);
      const sessionIds = [...ids, String(after.body.trace_id)];
      await stack.gateway.stop();
      const { rows, badLines } = readSessionFile(stack.sessionLogPath);
      assert.deepEqual(badLines, []);
      for (const id of sessionIds) {
        const row = rows.find((r) => r.session_id === id);
        assert.ok(row, `row for ${id}`);
        assert.equal(row.final_verdict, 'infra_error');
      }
      reportEvidence(t, {
        fault: 'chatd SIGKILLed with 12 sessions in flight (all 12 held by chatd first)',
        expectation: '502 infra_error (ECONNRESET) each, every row, gateway up',
        evidence: `12/12 held by chatd, then 12/12 answered 502, ${rows.length}/${sessionIds.length} rows, gateway RSS ${rssBefore?.toFixed(0)} MiB`,
      });
    } finally {
      await stack.stop();
    }
  });
});
