// Figure 1: what full observability costs /v1/iterate (zero-latency sim, 1 KB prompt), as CPU per
// session of both processes, against the same app with observability off — and, in the SAME
// alternating run, what stock OpenTelemetry and @langfuse/otel cost the same app:
//   off           OTEL_SDK_DISABLED=true, no Langfuse, no session log (the baseline)
//   full          ours: telemetry + Langfuse processor exporting to a local OTLP receiver + session log
//   stock-sdk     NodeSDK defaults + http and express instrumentation, OTLP to the receiver
//   stock-auto    NodeSDK + getNodeAutoInstrumentations(), OTLP to the receiver
//   langfuse-otel NodeSDK + @langfuse/otel's LangfuseSpanProcessor + http and express instrumentation
//   off+als       off plus one enabled AsyncLocalStorage (the async-hook tax alone, for context)
//   sdk-only      ours without any span export or session log (spans, metrics, signed hops)
//   full-nolog    ours without the session log
// The report under the table gives every variant's paired ratio and added µs, so sdk-only →
// full-nolog → full splits our cost into the SDK layer, the Langfuse export and the session log.
// Method: bench/lib/paired.mjs (short slices, one stack loaded at a time, ratios paired per cycle).
import { fmt } from './common.mjs';
import { failedRequests, runPairedIterate, showRatio } from './paired.mjs';
import { KEEP_ALIVE_NOTE, keepAliveEvidence, withVariantStacks } from './variants.mjs';

const VARIANT_NAMES = [
  'off',
  'full',
  'stock-sdk',
  'stock-auto',
  'langfuse-otel',
  'off+als',
  'sdk-only',
  'full-nolog',
];

export async function figure1(sizes) {
  const { cycles, sliceSeconds, connections, promptBytes } = sizes;
  const names = sizes.variants ?? VARIANT_NAMES;
  return withVariantStacks(names, { label: 'figure 1' }, async (stacks) => {
    const run = await runPairedIterate({
      label: 'figure 1',
      stacks,
      baseline: names[0],
      promptBytes,
      connections,
      sizes,
    });
    const hop = keepAliveEvidence(stacks);
    const p = run.paired;
    const full = p.full ?? p[names[1]];
    const cpu = full.cpu.median;
    const rps = full.rps.median;
    const failures = failedRequests(run);
    const stock = (name) => (p[name] ? `${fmt(p[name].cpu.median, 2)}x` : 'not run');
    const pass = cpu >= 0.9 && rps >= 0.9 && failures === 0;
    const offUs = p[names[0]].cpu_us_per_session.median;
    const report = [
      `figure 1: every variant against "${names[0]}" (paired per cycle; CPU of both processes per session)`,
      '',
      `  ${'variant'.padEnd(16)} ${'CPU ratio'.padEnd(22)} ${'added µs'.padStart(9)} ${'main thr.'.padStart(9)} ${'other thr.'.padStart(10)}  req/s ratio`,
      ...names.slice(1).map((n) => {
        const v = p[n];
        const added = v.added_us.median;
        const main = v.main_thread_added_us.median;
        return `  ${n.padEnd(16)} ${showRatio(v.cpu).padEnd(22)} ${fmt(added).padStart(9)} ${fmt(main).padStart(9)} ${fmt(added - main).padStart(10)}  ${fmt(v.rps.median, 2)}x`;
      }),
      '',
      `  budget at 0.90x: (1/0.9 - 1) x off ${fmt(offUs)} µs = ${fmt((1 / 0.9 - 1) * offUs)} µs/session`,
    ].join('\n');
    return {
      id: 1,
      name: '/v1/iterate full/off CPU per session (1 KB)',
      measured: cpu,
      display: showRatio(full.cpu),
      target: '>= 0.90x',
      status: Number.isFinite(cpu) && pass ? 'PASS' : 'MISS',
      context:
        `req/s ${showRatio(full.rps)}; same run: stock NodeSDK http+express ${stock('stock-sdk')}, ` +
        `auto-instrumentations ${stock('stock-auto')}, @langfuse/otel ${stock('langfuse-otel')}, ` +
        `off+AsyncLocalStorage ${stock('off+als')}; µs/session off ${fmt(p[names[0]].cpu_us_per_session.median)}, ` +
        `full ${fmt(full.cpu_us_per_session.median)}; ${cycles} cycles x ${sliceSeconds}s slices, ` +
        `${connections} conns; ${KEEP_ALIVE_NOTE}${failures ? `; ${failures} FAILED requests` : ''}`,
      report,
      details: {
        prompt_bytes: promptBytes,
        variants: names,
        paired: p,
        slices: run.slices,
        keep_alive: hop,
      },
    };
  });
}
