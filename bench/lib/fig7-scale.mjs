// Figure 7: is observability's cost flat in the prompt size? full/off CPU per session at 1, 32
// and 256 KB prompts (zero-latency sim), each size its own paired run (bench/lib/paired.mjs) on
// the same two stacks. Content is captured once per attempt and cut to the attribute limit
// (256 KiB by default) before it is encoded and masked, so the ratio should hold as prompts grow.
import path from 'node:path';
import { fmt } from './common.mjs';
import { runPaired, showRatio } from './paired.mjs';
import { benchWorkdir, iterateBody, startReceiver } from './services.mjs';
import { KEEP_ALIVE_NOTE, startVariants, stopAll } from './variants.mjs';

const TARGETS = { 32: 0.85, 256: 0.8 };

export async function figure7(sizes) {
  const { cycles, sliceSeconds, warmupSeconds, connections } = sizes;
  const promptKiB = sizes.promptKiB ?? [1, 32, 256];
  const names = sizes.variants ?? ['off', 'full'];
  const work = await benchWorkdir();
  const receiver = await startReceiver();
  let stacks = {};
  try {
    stacks = await startVariants(names, {
      rosterPath: work.rosterPath,
      receiverUrl: receiver.url,
      sessionLogPath: path.join(work.dir, 'sessions.jsonl'),
      label: 'figure 7',
    });
    const runs = {};
    for (const kib of promptKiB) {
      runs[kib] = await runPaired({
        label: `figure 7 (${kib} KB)`,
        stacks,
        baseline: names[0],
        request: { path: '/v1/iterate', body: iterateBody(kib * 1024), headers: {} },
        cycles,
        sliceSeconds,
        connections,
        warmupSeconds,
      });
    }
    const full = (kib) => runs[kib].paired[names[1]];
    const failures = promptKiB.reduce(
      (a, k) => a + Object.values(runs[k].paired).reduce((b, v) => b + v.failed, 0),
      0,
    );
    const pass =
      failures === 0 &&
      Object.entries(TARGETS).every(([kib, t]) => !runs[kib] || full(kib).cpu.median >= t);
    const shown = promptKiB.map((k) => `${fmt(full(k).cpu.median, 2)}x`).join(' / ');
    return {
      id: 7,
      name: `full/off CPU per session by prompt size (${promptKiB.join(' / ')} KB)`,
      measured: Math.min(...promptKiB.filter((k) => k in TARGETS).map((k) => full(k).cpu.median)),
      display: shown,
      target: '>= 0.85x at 32 KB, >= 0.80x at 256 KB',
      status: pass ? 'PASS' : 'MISS',
      context:
        promptKiB
          .map(
            (k) =>
              `${k} KB ${showRatio(full(k).cpu)}, off ${fmt(runs[k].paired[names[0]].cpu_us_per_session.median)} µs, full ${fmt(full(k).cpu_us_per_session.median)} µs, req/s ${fmt(full(k).rps.median, 2)}x`,
          )
          .join('; ') +
        `; ${cycles} cycles x ${sliceSeconds}s, ${connections} conns; ${KEEP_ALIVE_NOTE}${failures ? `; ${failures} FAILED requests` : ''}`,
      details: Object.fromEntries(
        promptKiB.map((k) => [k, { paired: runs[k].paired, slices: runs[k].slices }]),
      ),
    };
  } finally {
    await stopAll(stacks);
    await receiver.stop().catch(() => undefined);
    work.remove();
  }
}
