// The paired-slices method of the end-to-end figures (issue 14). Every variant is a running
// stack (gateway + chatd); a cycle loads each stack in turn for one short slice, one stack at a
// time, the order rotating from cycle to cycle. For each slice it records the CPU the stack's two
// processes used (cpu.mjs) per completed session, plus req/s and latency. A variant's ratio to the
// baseline is computed within each cycle (so a noisy minute hits both sides of a pair) and
// summarised over cycles as the median with its interquartile range.
import autocannon from 'autocannon';
import { cpuNanos, mainThreadCpuNanos } from './cpu.mjs';
import { fmt, progress } from './common.mjs';
import { iterateBody } from './services.mjs';

/** Quantile q (0..1) of numbers by linear interpolation; NaN when empty. */
export function quantile(values, q) {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

/** Median and interquartile range of a list. */
export function summary(values) {
  return { median: quantile(values, 0.5), q1: quantile(values, 0.25), q3: quantile(values, 0.75) };
}

/** "0.91x (IQR 0.88–0.93)" */
/** Failed requests over every variant of one or more paired runs. */
export function failedRequests(...runs) {
  return runs.reduce(
    (a, run) => a + Object.values(run.paired).reduce((b, v) => b + v.failed, 0),
    0,
  );
}

export function showRatio(s, digits = 2) {
  return `${fmt(s.median, digits)}x (IQR ${fmt(s.q1, digits)}–${fmt(s.q3, digits)})`;
}

/** One slice of load against `url`; resolves with autocannon's result. */
function load(url, request, connections, seconds) {
  return autocannon({
    url: `${url}${request.path}`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...request.headers },
    body: request.body,
    connections,
    duration: seconds,
    // autocannon keeps every connection alive (HTTP/1.1, one request in flight per connection).
    pipelining: 1,
  });
}

/** Loads one stack for one slice and measures it. */
export async function measureSlice(stack, request, connections, seconds) {
  const pids = [stack.gateway.child.pid, stack.chatd.child.pid];
  const before = cpuNanos(pids);
  const mainBefore = mainThreadCpuNanos(pids);
  const r = await load(stack.gateway.url, request, connections, seconds);
  const after = cpuNanos(pids);
  const mainAfter = mainThreadCpuNanos(pids);
  const ok = r['2xx'];
  return {
    sessions: ok,
    failed: r.non2xx + r.errors + r.timeouts,
    cpu_us_per_session: ok > 0 ? (after - before) / 1000 / ok : NaN,
    main_thread_us_per_session: ok > 0 ? (mainAfter - mainBefore) / 1000 / ok : NaN,
    rps: ok / r.duration,
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
  };
}

/**
 * Runs `cycles` cycles of one slice per variant over `stacks` ({name: stack}) and returns the
 * raw slices and, per variant, paired ratios against `baseline`:
 *   cpu  = baseline µs/session ÷ variant µs/session (1.0 = costs nothing; 0.9 = 11 % more CPU)
 *   rps  = variant req/s ÷ baseline req/s
 *   p50_added_ms, p99_added_ms = variant − baseline
 */
/**
 * runPaired over POST /v1/iterate with a `promptBytes` prompt, slices and warm-up as `sizes` gives
 * them (`cycles`, `sliceSeconds`, `warmupSeconds`); the rest (`label`, `stacks`, `baseline`,
 * `connections`) goes to runPaired as given. What figures 1 and 8 measure.
 */
export function runPairedIterate({ promptBytes, sizes, ...rest }) {
  const { cycles, sliceSeconds, warmupSeconds } = sizes;
  const request = { path: '/v1/iterate', body: iterateBody(promptBytes), headers: {} };
  return runPaired({ ...rest, request, cycles, sliceSeconds, warmupSeconds });
}

export async function runPaired({
  label,
  stacks,
  baseline,
  request,
  cycles,
  sliceSeconds,
  connections,
  warmupSeconds,
}) {
  const names = Object.keys(stacks);
  for (const name of names) {
    progress(`${label}: warm-up "${name}" ${warmupSeconds}s`);
    await load(stacks[name].gateway.url, request, connections, warmupSeconds);
  }
  const slices = Object.fromEntries(names.map((n) => [n, []]));
  for (let cycle = 0; cycle < cycles; cycle++) {
    const order = names.map((_, i) => names[(i + cycle) % names.length]);
    for (const name of order)
      slices[name].push(await measureSlice(stacks[name], request, connections, sliceSeconds));
    progress(
      `${label}: cycle ${cycle + 1}/${cycles}: ` +
        names
          .map((n) => {
            const s = slices[n][cycle];
            return `${n} ${fmt(s.cpu_us_per_session)} µs ${fmt(s.rps)}/s`;
          })
          .join(', '),
    );
  }
  const base = slices[baseline];
  const paired = {};
  for (const name of names) {
    const mine = slices[name];
    paired[name] = {
      cpu: summary(mine.map((s, i) => base[i].cpu_us_per_session / s.cpu_us_per_session)),
      rps: summary(mine.map((s, i) => s.rps / base[i].rps)),
      p50_added_ms: summary(mine.map((s, i) => s.p50_ms - base[i].p50_ms)),
      p99_added_ms: summary(mine.map((s, i) => s.p99_ms - base[i].p99_ms)),
      cpu_us_per_session: summary(mine.map((s) => s.cpu_us_per_session)),
      added_us: summary(mine.map((s, i) => s.cpu_us_per_session - base[i].cpu_us_per_session)),
      main_thread_added_us: summary(
        mine.map((s, i) => s.main_thread_us_per_session - base[i].main_thread_us_per_session),
      ),
      rps_abs: summary(mine.map((s) => s.rps)),
      p50_ms: summary(mine.map((s) => s.p50_ms)),
      sessions: mine.reduce((a, s) => a + s.sessions, 0),
      failed: mine.reduce((a, s) => a + s.failed, 0),
    };
  }
  return { slices, paired, cycles, slice_seconds: sliceSeconds, connections };
}
