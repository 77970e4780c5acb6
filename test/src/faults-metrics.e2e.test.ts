// Clients cannot blind or bloat the metrics: series budgets are per instrument and in bytes as
// well as in label sets, what folds keeps its code-chosen labels (token type, operation) and
// known values (sim's models) are never folded; and since every answer is bounded, scrapers
// that never read cost bounded memory.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { DEFAULT_SERVER_LIMITS } from '@lakehouse/telemetry';
import { postJson, sharedRoster, startService, eventually } from './harness.js';
import type { ServiceHandle } from './harness.js';
import { mapLimit, metricSum, reportEvidence, rssMiB } from './faults-helpers.js';

const MiB = 1024 * 1024;

function chat(chatd: ServiceHandle, model: string) {
  return postJson(`${chatd.url}/v1/chat`, {
    provider: 'sim',
    model,
    messages: [{ role: 'user', content: 'hi' }],
  });
}

/** Each `gen_ai_client_token_usage_count` line as its labels. */
function tokenUsageSeries(text: string): Array<Record<string, string>> {
  return text
    .split('\n')
    .filter((l) => l.startsWith('gen_ai_client_token_usage_count{'))
    .map((l) =>
      Object.fromEntries([...l.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]])),
    );
}

describe('faults: metrics clients cannot blind or bloat', () => {
  it('300 junk model names first: later sim traffic keeps its series, the overflow keeps token type', async (t) => {
    const chatd = await startService('chatd', { ROSTER_PATH: await sharedRoster() });
    try {
      await mapLimit(
        Array.from({ length: 300 }, (_, i) => `junk-${i}`),
        8,
        (m) => chat(chatd, m),
      );
      for (const m of ['clean', 'phantom-once']) assert.equal((await chat(chatd, m)).status, 200);
      const text = await (await fetch(`${chatd.url}/metrics`)).text();
      const series = tokenUsageSeries(text);
      const known = series.filter((s) => s['gen_ai_request_model'] === 'clean');
      const overflow = series.filter((s) => s['otel_metric_overflow'] === 'true');
      const evidence = `${series.length} token-usage series; "clean" kept as ${known.map((s) => s['gen_ai_token_type']).join('+')}; overflow series by ${overflow.map((s) => `${s['gen_ai_operation_name']}/${s['gen_ai_token_type']}`).join(', ')}`;
      t.diagnostic(evidence);
      assert.deepEqual(known.map((s) => s['gen_ai_token_type']).sort(), ['input', 'output']);
      assert.deepEqual(overflow.map((s) => s['gen_ai_token_type']).sort(), ['input', 'output']);
      for (const s of overflow) {
        assert.equal(s['gen_ai_operation_name'], 'chat');
        assert.equal(s['gen_ai_request_model'], undefined, 'the client value folds');
      }
      reportEvidence(t, {
        fault: 'metrics blinding: 300 junk model names on chatd before real traffic',
        expectation:
          "known models keep their series; the overflow keeps token type and operation, folding only the client's values",
        evidence,
      });
    } finally {
      await chatd.stop();
    }
  });

  it('1,500 distinct 200-character non-ASCII model names: /metrics stays under 1 MiB', async (t) => {
    const chatd = await startService('chatd', { ROSTER_PATH: await sharedRoster() });
    try {
      await mapLimit(
        Array.from({ length: 1500 }, (_, i) => `m${i}-${'é'.repeat(200)}`),
        8,
        (m) => chat(chatd, m),
      );
      const text = await (await fetch(`${chatd.url}/metrics`)).text();
      const bytes = Buffer.byteLength(text);
      const series = tokenUsageSeries(text).length;
      const evidence = `/metrics ${(bytes / 1024).toFixed(0)} KiB, ${series} token-usage series`;
      t.diagnostic(evidence);
      assert.ok(bytes < MiB, evidence);
      reportEvidence(t, {
        fault: 'metrics size: 1,500 distinct model names of 200 × "é" on chatd',
        expectation: 'label values budgeted in bytes per instrument as well: /metrics < 1 MiB',
        evidence,
      });
    } finally {
      await chatd.stop();
    }
  });

  it('300 sockets that request the largest /metrics and never read: memory bounded, /healthz answers', async (t) => {
    const chatd = await startService('chatd', { ROSTER_PATH: await sharedRoster() });
    const sockets: net.Socket[] = [];
    try {
      // The largest exposition clients can make (the byte budget above).
      await mapLimit(
        Array.from({ length: 1500 }, (_, i) => `m${i}-${'é'.repeat(200)}`),
        8,
        (m) => chat(chatd, m),
      );
      const exposition = Buffer.byteLength(await (await fetch(`${chatd.url}/metrics`)).text());
      const before = rssMiB(chatd.child.pid) ?? 0;
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(chatd.child.pid) ?? 0)), 20);
      for (let i = 0; i < 300; i++) {
        const s = net.connect(chatd.port, '127.0.0.1');
        s.on('error', () => undefined);
        s.write('GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n');
        s.pause();
        sockets.push(s);
      }
      // Past MAX_CONNECTIONS_PER_PEER a new socket takes the place of one whose answer is sent:
      // that every one past the cap found such a socket shows all held sockets were answered.
      const pastCap = 300 - DEFAULT_SERVER_LIMITS.maxConnectionsPerPeer;
      const evicted = await eventually(
        async () => {
          const n = await metricSum(chatd.url, 'lakehouse_http_connections_dropped_total');
          return n >= pastCap ? n : undefined;
        },
        30_000,
        "the sockets past the per-peer cap to take the answered ones' places",
      );
      const health = await fetch(`${chatd.url}/healthz`);
      clearInterval(sampler);
      const evidence = `answers of ${(exposition / 1024).toFixed(0)} KiB; /healthz ${health.status} while held; ${evicted} sockets evicted past MAX_CONNECTIONS_PER_PEER; RSS ${before.toFixed(0)} → peak ${peak.toFixed(0)} MiB`;
      t.diagnostic(evidence);
      assert.ok(exposition < MiB, evidence);
      assert.equal(health.status, 200);
      assert.ok(peak - before < 256, evidence);
      reportEvidence(t, {
        fault: 'unread scrapes: 300 sockets GET the largest /metrics and never read',
        expectation:
          "each answer is bounded (< 1 MiB), so they cost bounded memory; sockets past MAX_CONNECTIONS_PER_PEER take answered ones' places; /healthz answers",
        evidence,
      });
    } finally {
      for (const s of sockets) s.destroy();
      await chatd.stop();
    }
  });
});
