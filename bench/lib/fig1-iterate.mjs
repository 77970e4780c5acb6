// Figure 1: /v1/iterate throughput and latency, observability fully on vs fully off.
//   on    OTel SDK + Langfuse processor exporting to a local OTLP receiver + session log
//   otel  OTel SDK alone (instrumentation, metrics, no sink): attributes the cost, context only
//   off   OTEL_SDK_DISABLED=true, no Langfuse, no session log
// The stacks run at once (started once each); autocannon drives one side at a time, the order
// changing round by round; the figure is the ratio of median throughputs on/off.
import { statSync } from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { fmt, median, progress, verdict } from './common.mjs';

// Side orders per round: each side goes first, middle and last once every three rounds.
const ORDERS = [
  ['on', 'otel', 'off'],
  ['off', 'on', 'otel'],
  ['otel', 'off', 'on'],
];
import { ITERATE_BODY, benchWorkdir, startReceiver, startStack } from './services.mjs';

function load(url, connections, seconds) {
  return autocannon({
    url: `${url}/v1/iterate`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: ITERATE_BODY,
    connections,
    duration: seconds,
  });
}

export async function figure1(sizes) {
  const { rounds, seconds, warmupSeconds, connections } = sizes;
  const work = await benchWorkdir();
  const receiver = await startReceiver();
  const sessionLogPath = path.join(work.dir, 'sessions-on.jsonl');
  const stacks = {};
  try {
    progress(`figure 1: starting the "on" and "off" stacks (receiver ${receiver.url})`);
    stacks.on = await startStack({
      rosterPath: work.rosterPath,
      env: {
        LANGFUSE_PUBLIC_KEY: 'pk-lf-bench',
        LANGFUSE_SECRET_KEY: 'sk-lf-bench',
        LANGFUSE_BASE_URL: receiver.url,
      },
      gatewayEnv: { SESSION_LOG_PATH: sessionLogPath },
    });
    stacks.otel = await startStack({ rosterPath: work.rosterPath });
    stacks.off = await startStack({
      rosterPath: work.rosterPath,
      env: { OTEL_SDK_DISABLED: 'true' },
    });
    for (const side of ['on', 'otel', 'off']) {
      progress(`figure 1: warm-up "${side}" ${warmupSeconds}s`);
      await load(stacks[side].gateway.url, connections, warmupSeconds);
    }
    const samples = { on: [], otel: [], off: [] };
    for (let round = 0; round < rounds; round++) {
      for (const side of ORDERS[round % ORDERS.length]) {
        const r = await load(stacks[side].gateway.url, connections, seconds);
        const ok = r['2xx'];
        const failed = r.non2xx + r.errors + r.timeouts;
        const rps = ok / r.duration;
        samples[side].push({ rps, p50: r.latency.p50, p99: r.latency.p99, ok, failed });
        progress(
          `figure 1: round ${round + 1}/${rounds} "${side}": ${fmt(rps)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, ${failed} failed`,
        );
      }
    }
    const summary = (side) => ({
      rps: median(samples[side].map((s) => s.rps)),
      p50_ms: median(samples[side].map((s) => s.p50)),
      p99_ms: median(samples[side].map((s) => s.p99)),
      requests: samples[side].reduce((a, s) => a + s.ok, 0),
      failed: samples[side].reduce((a, s) => a + s.failed, 0),
    });
    const on = summary('on');
    const otel = summary('otel');
    const off = summary('off');
    await stacks.on.stop();
    delete stacks.on;
    const received = await receiver.stop();
    let sessionLogBytes = 0;
    try {
      sessionLogBytes = statSync(sessionLogPath).size;
    } catch {
      // no row written
    }
    const ratio = on.rps / off.rps;
    const failures = on.failed + otel.failed + off.failed;
    const otelRatio = otel.rps / off.rps;
    return {
      id: 1,
      name: '/v1/iterate on/off throughput',
      measured: ratio,
      display: `${fmt(ratio, 2)}x`,
      target: '>= 0.90x',
      status: failures === 0 ? verdict(ratio, ratio >= 0.9) : 'MISS',
      context:
        `on ${fmt(on.rps)} req/s p50 ${on.p50_ms} ms p99 ${on.p99_ms} ms; off ${fmt(off.rps)} req/s p50 ${off.p50_ms} ms p99 ${off.p99_ms} ms; ` +
        `OTel SDK alone ${fmt(otelRatio, 2)}x off; ${connections} conns, ${rounds}x${seconds}s per side${failures ? `; ${failures} FAILED requests` : ''}`,
      details: {
        on,
        otel,
        off,
        otel_vs_off: otelRatio,
        rounds: samples,
        connections,
        seconds_per_round: seconds,
        receiver: received,
        session_log_bytes: sessionLogBytes,
      },
    };
  } finally {
    await Promise.all(Object.values(stacks).map((s) => s.stop()));
    await receiver.stop().catch(() => undefined);
    work.remove();
  }
}
