// Figure 6: gateway RSS over many sessions with the Langfuse endpoint down (a closed loopback
// port): every span export fails, and the bounded queue must keep memory flat. The session log
// is on too. RSS is read from /proc/<pid>/status after a warm-up and after every chunk.
import path from 'node:path';
import autocannon from 'autocannon';
import { fmt, progress, rssOf, verdict } from './common.mjs';
import { ITERATE_BODY, benchWorkdir, closedPort, startStack } from './services.mjs';
import { performance } from 'node:perf_hooks';

const MB = 1024 * 1024;

function drive(url, connections, amount) {
  return autocannon({
    url: `${url}/v1/iterate`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: ITERATE_BODY,
    connections,
    amount,
  });
}

export async function figure6(sizes) {
  const { sessions, warmup, chunk, connections, budgetSeconds } = sizes;
  const work = await benchWorkdir();
  const port = await closedPort();
  let stack;
  try {
    stack = await startStack({
      rosterPath: work.rosterPath,
      env: {
        LANGFUSE_PUBLIC_KEY: 'pk-lf-bench',
        LANGFUSE_SECRET_KEY: 'sk-lf-bench',
        LANGFUSE_BASE_URL: `http://127.0.0.1:${port}`,
      },
      gatewayEnv: { SESSION_LOG_PATH: path.join(work.dir, 'sessions.jsonl') },
    });
    const pid = stack.gateway.child.pid;
    const started = performance.now();
    progress(
      `figure 6: warm-up ${fmt(warmup)} sessions (Langfuse endpoint 127.0.0.1:${port} is closed)`,
    );
    let done = 0;
    let failed = 0;
    const w = await drive(stack.gateway.url, connections, warmup);
    done += w['2xx'];
    failed += w.non2xx + w.errors + w.timeouts;
    const baseline = rssOf(pid);
    const samples = [{ sessions: done, rss: baseline }];
    progress(`figure 6: baseline RSS ${fmt(baseline / MB, 1)} MB after ${fmt(done)} sessions`);
    const deadline = started + budgetSeconds * 1000;
    let outOfTime = false;
    while (done < sessions) {
      if (performance.now() > deadline) {
        outOfTime = true;
        break;
      }
      const t0 = performance.now();
      const r = await drive(stack.gateway.url, connections, Math.min(chunk, sessions - done));
      const rate = r['2xx'] / ((performance.now() - t0) / 1000);
      done += r['2xx'];
      failed += r.non2xx + r.errors + r.timeouts;
      const rss = rssOf(pid);
      samples.push({ sessions: done, rss });
      progress(
        `figure 6: ${fmt(done)}/${fmt(sessions)} sessions, RSS ${fmt(rss / MB, 1)} MB, ${fmt(rate)} sessions/s`,
      );
      if (r['2xx'] === 0) break;
    }
    // Evidence that the endpoint really was down: the spans the gateway counted as dropped.
    const metrics = await fetch(`${stack.gateway.url}/metrics`).then(
      (r) => r.text(),
      () => '',
    );
    const dropped = metrics
      .split('\n')
      .filter((line) => line.startsWith('lakehouse_langfuse_spans_dropped_total'))
      .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    const final = samples.at(-1).rss;
    const peak = Math.max(...samples.map((s) => s.rss));
    const growth = (final - baseline) / MB;
    const seconds = (performance.now() - started) / 1000;
    const reached = done >= sessions;
    return {
      id: 6,
      name: `gateway RSS growth, Langfuse down (${fmt(done)} sessions)`,
      measured: growth,
      display: `${growth >= 0 ? '+' : ''}${fmt(growth, 1)} MB`,
      target: '< 50 MB',
      status: verdict(growth, growth < 50 && reached && failed === 0),
      context:
        `RSS ${fmt(baseline / MB, 1)} -> ${fmt(final / MB, 1)} MB (peak ${fmt(peak / MB, 1)}) from session ${fmt(warmup)} to ${fmt(done)}; ` +
        `${fmt(dropped)} spans dropped; ${fmt(seconds)} s${reached ? '' : `; only ${fmt(done)} of ${fmt(sessions)} sessions within ${budgetSeconds} s`}${failed ? `; ${failed} FAILED requests` : ''}`,
      details: {
        spans_dropped: dropped,
        sessions_target: sessions,
        sessions_done: done,
        out_of_time: outOfTime,
        failed,
        baseline_bytes: baseline,
        final_bytes: final,
        peak_bytes: peak,
        samples,
        seconds,
      },
    };
  } finally {
    await stack?.stop();
    work.remove();
  }
}
