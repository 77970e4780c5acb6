// Load: 200 concurrent clients send /v1/iterate for 30 s to the real services (sim provider), with
// a local stand-in for Langfuse. Zero 5xx, one session row per request, one trace tree per request.
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { startStack, fillRequest } from './harness.js';
import { metricSum, readSessionFile, reportEvidence, rssMiB } from './faults-helpers.js';
import { buildTraces } from './langfuse-tree.js';
import { postOverAgent, startOtlpReceiver } from '@lakehouse/test-support';

const CONCURRENCY = 200;
// FAULTS_LOAD_SECONDS shortens the run while iterating locally; the suite's figure is 30 s.
const SECONDS = Number(process.env['FAULTS_LOAD_SECONDS'] ?? 30);

interface Result {
  status: number;
  traceId: string;
  error?: string;
}

async function post(agent: http.Agent, url: string, body: string): Promise<Result> {
  const outcome = await postOverAgent(agent, url, body, 60_000);
  if (outcome.kind === 'answered') return { status: outcome.status, traceId: outcome.traceId };
  return {
    status: 0,
    traceId: '',
    error: outcome.kind === 'refused' ? 'ECONNREFUSED' : outcome.code,
  };
}

describe('load: 200 concurrent /v1/iterate sessions (sim provider)', () => {
  it(
    `${CONCURRENCY} clients for ${SECONDS} s: zero 5xx, rows == requests, one trace tree per request`,
    { timeout: (SECONDS + 120) * 1000 },
    async (t) => {
      const receiver = await startOtlpReceiver();
      const stack = await startStack({
        env: {
          LANGFUSE_PUBLIC_KEY: 'pk-lf-load',
          LANGFUSE_SECRET_KEY: 'sk-lf-load',
          LANGFUSE_BASE_URL: receiver.url,
        },
      });
      const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
      try {
        const url = `${stack.gateway.url}/v1/iterate`;
        // Every body begins a session: accepted (200), validation never passes (422), and a
        // provider chatd does not know (400 after the session began).
        const bodies = [
          ...Array.from({ length: 8 }, async () => JSON.stringify(await fillRequest('clean'))),
          (async () =>
            JSON.stringify(await fillRequest('phantom-always', { max_iterations: 1 })))(),
          (async () =>
            JSON.stringify({ ...(await fillRequest('clean')), provider: 'no-such-provider' }))(),
        ];
        const payloads = await Promise.all(bodies);
        const results: Result[] = [];
        const pid = stack.gateway.child.pid;
        const rssStart = rssMiB(pid) ?? 0;
        let rssPeak = rssStart;
        const sampler = setInterval(() => {
          rssPeak = Math.max(rssPeak, rssMiB(pid) ?? 0);
        }, 250);
        const deadline = Date.now() + SECONDS * 1000;
        let n = 0;
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (Date.now() < deadline)
              results.push(await post(agent, url, payloads[n++ % payloads.length]!));
          }),
        );
        clearInterval(sampler);
        const rssEnd = rssMiB(pid) ?? 0;
        const dropped = await metricSum(
          stack.gateway.url,
          'lakehouse_langfuse_spans_dropped_total',
        );
        const dropLines = await metricSum(stack.gateway.url, 'lakehouse_session_log_dropped_total');
        // SIGTERM flushes spans and rows: what the stand-in and the file hold now is final.
        const code = await stack.gateway.stop(30_000);
        await stack.chatd.stop(30_000);

        const byStatus: Record<string, number> = {};
        for (const r of results)
          byStatus[r.error ?? r.status] = (byStatus[r.error ?? r.status] ?? 0) + 1;
        const fiveXx = results.filter((r) => r.status >= 500).length;
        const failed = results.filter((r) => r.error !== undefined).length;
        const { rows, badLines } = readSessionFile(stack.sessionLogPath);
        const rowIds = new Set(rows.map((r) => String(r.session_id)));
        const traces = buildTraces(receiver.spans);
        let trees = 0;
        for (const r of results) {
          const trace = traces.get(r.traceId);
          if (
            trace !== undefined &&
            trace.roots.length === 1 &&
            trace.dangling.length === 0 &&
            trace.roots[0]!.span.name.startsWith('iterate ')
          )
            trees++;
        }
        const rate = results.length / SECONDS;
        const evidence = `${results.length} requests (${rate.toFixed(0)}/s) ${JSON.stringify(byStatus)}; 5xx ${fiveXx}; rows ${rows.length}/${results.length}; trees ${trees}/${results.length}; spans dropped ${dropped}, rows dropped ${dropLines}; gateway RSS ${rssStart.toFixed(0)}→peak ${rssPeak.toFixed(0)}→${rssEnd.toFixed(0)} MiB`;
        t.diagnostic(evidence);

        assert.ok(results.length >= CONCURRENCY, `only ${results.length} requests`);
        assert.equal(failed, 0, 'no connection errors');
        assert.equal(fiveXx, 0, 'zero 5xx');
        assert.deepEqual(Object.keys(byStatus).sort(), ['200', '400', '422']);
        assert.equal(code, 0);
        assert.deepEqual(badLines, [], 'every line is one valid row');
        assert.equal(rows.length, results.length, 'rows == requests');
        assert.equal(rowIds.size, rows.length, 'no duplicate rows');
        for (const r of results) assert.ok(rowIds.has(r.traceId), `row for ${r.traceId}`);
        assert.equal(traces.size, results.length, 'one trace per request, no stray traces');
        assert.equal(
          trees,
          results.length,
          'one complete tree (one root, no dangling parent) per request',
        );
        reportEvidence(t, {
          fault: `load: ${CONCURRENCY} concurrent clients for ${SECONDS} s`,
          expectation: 'zero 5xx, rows == requests, one trace tree per request',
          evidence,
        });
      } finally {
        agent.destroy();
        await stack.stop();
        await receiver.close();
      }
    },
  );
});
