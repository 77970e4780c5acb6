// Figure 8: what an operator sees with a realistic model: SIM_LATENCY_MS=200 on chatd (a fast
// LLM), full vs off at 10, 100 and 400 connections. Paired slices (bench/lib/paired.mjs): the
// throughput ratio and the p50 latency full adds, per cycle, median and IQR. Until the machine
// saturates the observability CPU hides in the model's latency; past it the ratio falls towards
// the CPU ratio of figure 1.
import { fmt } from './common.mjs';
import { failedRequests, runPairedIterate, showRatio } from './paired.mjs';
import { KEEP_ALIVE_NOTE, withVariantStacks } from './variants.mjs';

// connections → [min throughput ratio, max p50 added (ms) or undefined]
const TARGETS = { 10: [0.99, 2], 100: [0.99, 2], 400: [0.9, undefined] };

export async function figure8(sizes) {
  const { cycles, sliceSeconds, latencyMs, promptBytes } = sizes;
  const levels = sizes.connectionLevels ?? [10, 100, 400];
  const names = sizes.variants ?? ['off', 'full'];
  return withVariantStacks(
    names,
    { label: 'figure 8', chatdEnv: { SIM_LATENCY_MS: String(latencyMs) } },
    async (stacks) => {
      const runs = {};
      for (const connections of levels) {
        runs[connections] = await runPairedIterate({
          label: `figure 8 (${connections} conns)`,
          stacks,
          baseline: names[0],
          promptBytes,
          connections,
          sizes,
        });
      }
      const full = (c) => runs[c].paired[names[1]];
      const failures = failedRequests(...Object.values(runs));
      const meets = (c) => {
        const t = TARGETS[c];
        if (t === undefined) return true;
        const [ratio, p50] = t;
        return (
          full(c).rps.median >= ratio && (p50 === undefined || full(c).p50_added_ms.median < p50)
        );
      };
      const pass = failures === 0 && levels.every(meets);
      return {
        id: 8,
        name: `full/off req/s at SIM_LATENCY_MS=${latencyMs} (${levels.join(' / ')} conns)`,
        measured: Math.min(...levels.map((c) => full(c).rps.median)),
        display: levels.map((c) => `${fmt(full(c).rps.median, 2)}x`).join(' / '),
        target: '>= 0.99x, p50 +< 2 ms at 10 and 100; >= 0.90x at 400',
        status: pass ? 'PASS' : 'MISS',
        context:
          levels
            .map(
              (c) =>
                `${c} conns ${showRatio(full(c).rps)}, p50 +${fmt(full(c).p50_added_ms.median, 1)} ms (off ${fmt(runs[c].paired[names[0]].p50_ms.median)} ms), off ${fmt(runs[c].paired[names[0]].rps_abs.median)} req/s, CPU ${fmt(full(c).cpu.median, 2)}x`,
            )
            .join('; ') +
          `; ${cycles} cycles x ${sliceSeconds}s; ${KEEP_ALIVE_NOTE}${failures ? `; ${failures} FAILED requests` : ''}`,
        details: Object.fromEntries(
          levels.map((c) => [c, { paired: runs[c].paired, slices: runs[c].slices }]),
        ),
      };
    },
  );
}
