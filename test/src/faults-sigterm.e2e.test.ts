// SIGTERM to the gateway while 48 clients keep sending sessions: every request that reached the
// gateway gets a correct answer (or its connection is refused cleanly), every session that began
// has its row after exit, and every answered session's trace tree reached the Langfuse stand-in.
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { eventually, startStack, fillRequest } from './harness.js';
import { readSessionFile, reportEvidence, rssMiB } from './faults-helpers.js';
import { buildTraces } from './langfuse-tree.js';
import { postOverAgent, startOtlpReceiver } from '@lakehouse/test-support';
import type { AgentOutcome } from '@lakehouse/test-support';

type Outcome = AgentOutcome;

const post = (agent: http.Agent, url: string, body: string): Promise<Outcome> =>
  postOverAgent(agent, url, body, 30_000);

describe('faults: SIGTERM under load', () => {
  it('answers or cleanly refuses every request, writes a row per session, flushes every tree, exits 0', async (t) => {
    const receiver = await startOtlpReceiver();
    const stack = await startStack({
      env: {
        LANGFUSE_PUBLIC_KEY: 'pk-lf-sigterm',
        LANGFUSE_SECRET_KEY: 'sk-lf-sigterm',
        LANGFUSE_BASE_URL: receiver.url,
      },
      // Sessions last long enough that many are in flight when the signal lands.
      chatdEnv: { SIM_LATENCY_MS: '150' },
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    try {
      const url = `${stack.gateway.url}/v1/iterate`;
      const body = JSON.stringify(await fillRequest('phantom-once'));
      const outcomes: Outcome[] = [];
      let sent = 0;
      // Each client sends until refused: once the gateway has exited its next request is, so
      // every loop ends on its own.
      const clients = Array.from({ length: 48 }, async () => {
        for (;;) {
          sent += 1;
          const outcome = await post(agent, url, body);
          outcomes.push(outcome);
          if (outcome.kind === 'refused') return;
        }
      });
      // Load is steady once every client has had about two sessions answered.
      await eventually(
        () => (outcomes.length >= 96 ? true : undefined),
        60_000,
        '96 sessions answered under load',
      );
      const rss = rssMiB(stack.gateway.child.pid);
      const answeredBefore = outcomes.length;
      const inFlightAtSignal = sent - outcomes.length;
      const signalled = Date.now();
      const exit = stack.gateway.stop(20_000);
      const code = await exit;
      const shutdownMs = Date.now() - signalled;
      await Promise.all(clients);

      const answered = outcomes.filter(
        (o): o is Extract<Outcome, { kind: 'answered' }> => o.kind === 'answered',
      );
      // After SIGTERM, sessions that have not begun are refused: 503 before any session
      // (connection: close), then ECONNREFUSED once the listener is closed.
      const sessions = answered.filter((a) => a.status !== 503);
      const refusedHttp = answered.filter((a) => a.status === 503);
      const refused = outcomes.filter((o) => o.kind === 'refused').length;
      const cut = outcomes.filter((o): o is Extract<Outcome, { kind: 'cut' }> => o.kind === 'cut');
      const byStatus: Record<string, number> = {};
      for (const a of answered) byStatus[a.status] = (byStatus[a.status] ?? 0) + 1;
      const { rows, badLines } = readSessionFile(stack.sessionLogPath);
      const rowIds = new Set(rows.map((r) => String(r.session_id)));
      const traces = buildTraces(receiver.spans);
      let trees = 0;
      for (const a of sessions) {
        const trace = traces.get(a.traceId);
        if (
          trace &&
          trace.roots.length === 1 &&
          trace.dangling.length === 0 &&
          trace.roots[0]!.children.length === 2
        )
          trees++;
      }
      const evidence = `exit ${code} in ${(shutdownMs / 1000).toFixed(1)} s; ${inFlightAtSignal} in flight at SIGTERM; ${sessions.length} sessions answered, ${refusedHttp.length} refused 503 + ${refused} ECONNREFUSED + ${cut.filter((c) => !c.reused).length} reset in the accept backlog, ${cut.filter((c) => c.reused).length} cut; ${JSON.stringify(byStatus)}; ${rows.length}/${sessions.length} rows; ${trees}/${sessions.length} trees; RSS ${rss?.toFixed(0)} MiB`;
      t.diagnostic(evidence);

      // The precondition: the signal landed with sessions in flight.
      assert.ok(inFlightAtSignal > 0, `${inFlightAtSignal} requests in flight at SIGTERM`);
      assert.equal(code, 0, 'the gateway exits 0');
      // Bounded: stop() SIGKILLs past its 20 s deadline, and a killed gateway does not exit 0.
      assert.ok(
        sessions.length > 50,
        `sessions answered: ${sessions.length} (${answeredBefore} before SIGTERM)`,
      );
      for (const a of sessions) {
        assert.equal(a.status, 200, `a session answered ${a.status}: ${a.error}`);
        assert.match(a.traceId, /^[0-9a-f]{32}$/);
      }
      for (const a of refusedHttp) assert.match(a.error, /shutting down/);
      // A fresh connection reset before any answer sat in the kernel's accept backlog when the
      // listener closed: refused at the TCP level, never read (rows == sessions proves no session
      // began unanswered). A reset on a reused connection would be a request the gateway dropped.
      assert.deepEqual(
        cut.filter((c) => c.reused).map((c) => c.code),
        [],
        'no request cut on a connection the gateway had accepted',
      );
      assert.deepEqual(badLines, []);
      assert.equal(rowIds.size, rows.length, 'one row per session');
      assert.equal(
        sessions.filter((a) => !rowIds.has(a.traceId)).length,
        0,
        'every answered session has its row',
      );
      assert.equal(rows.length, sessions.length, 'no row for a refused request, none missing');
      assert.equal(trees, sessions.length, 'every answered session has its complete tree');
      reportEvidence(t, {
        fault: 'SIGTERM to the gateway under 48-client load',
        expectation:
          'exit 0 within the 20 s deadline; in-flight answered 200, later ones refused (503/ECONNREFUSED); every row + tree flushed',
        evidence,
      });
    } finally {
      agent.destroy();
      await stack.stop();
      await receiver.close();
    }
  });
});
