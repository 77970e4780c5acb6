// Figure 2: CPU per span of the Langfuse export path, in-process, on the same synthetic sessions:
//   ours     LangfuseTranslatingSpanProcessor (translate, mask, bounded queue) + exporter
//   langfuse @langfuse/otel LangfuseSpanProcessor (its default filter, mask, media scan, BSP) + exporter
//   floor    a plain BatchSpanProcessor + exporter (every span serialised as OTLP JSON)
//   sdk      no processor: the SDK's own cost of creating the spans, subtracted from the others
// The exporter is the same for all: it serialises with the OTLP JSON serializer (the work the real
// OTLP/HTTP transport does before the network) and counts bytes, sending nothing.
// tinybench drives the rounds (one Bench per round, sides in alternating order); each task runs
// a batch of sessions plus a flush and reports its process CPU time as the sample.
import { ExportResultCode } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LangfuseSpanProcessor } from '@langfuse/otel';
import { LangfuseTranslatingSpanProcessor } from '@lakehouse/langfuse-processor';
import { Bench } from 'tinybench';
import { fmt, median, progress, verdict } from './common.mjs';
import { showRatio, summary } from './paired.mjs';
import { SPANS_PER_SESSION, isTrustedBenchParent, makeProviders } from './spans.mjs';

class SerialisingExporter {
  bytes = 0;
  spans = 0;
  requests = 0;
  export(spans, resultCallback) {
    const body = JsonTraceSerializer.serializeRequest(spans);
    this.bytes += body?.length ?? 0;
    this.spans += spans.length;
    this.requests += 1;
    resultCallback({ code: ExportResultCode.SUCCESS });
  }
  forceFlush() {
    return Promise.resolve();
  }
  shutdown() {
    return Promise.resolve();
  }
}

const LANGFUSE_KEYS = {
  publicKey: 'pk-lf-bench',
  secretKey: 'sk-lf-bench',
  baseUrl: 'http://127.0.0.1:9',
};

const SIDES = {
  sdk: () => [],
  floor: (exporter) => [new BatchSpanProcessor(exporter)],
  // "On the same spans": @langfuse/otel exports every span it is given, as the floor does.
  langfuse: (exporter) => [
    new LangfuseSpanProcessor({ exporter, ...LANGFUSE_KEYS, shouldExportSpan: () => true }),
  ],
  // Its default filter keeps only gen_ai.* spans (1 of 4 here): no session tree, shown for context.
  langfuse_default: (exporter) => [new LangfuseSpanProcessor({ exporter, ...LANGFUSE_KEYS })],
  ours: (exporter) => [
    new LangfuseTranslatingSpanProcessor({
      exporter,
      env: {},
      isTrustedRemoteParent: isTrustedBenchParent,
    }),
  ],
};

function cpuMicros() {
  const u = process.cpuUsage();
  return u.user + u.system;
}

export async function figure2(sizes) {
  const { sessionsPerBatch, batchesPerRound, rounds } = sizes;
  const spansPerBatch = sessionsPerBatch * SPANS_PER_SESSION;
  const names = Object.keys(SIDES);
  const sides = {};
  for (const name of names) {
    const exporter = new SerialisingExporter();
    sides[name] = { exporter, providers: makeProviders(() => SIDES[name](exporter)), perRound: [] };
  }
  // Warm-up (JIT, heap growth) outside the measured rounds.
  for (let i = 0; i < Math.max(2, batchesPerRound); i++) {
    for (const name of names) {
      sides[name].providers.runSessions(sessionsPerBatch);
      await sides[name].providers.flush();
    }
  }
  for (const name of names) {
    Object.assign(sides[name].exporter, { bytes: 0, spans: 0, requests: 0 });
  }
  const bytesSeen = Object.fromEntries(names.map((n) => [n, 0]));
  const spansIn = Object.fromEntries(names.map((n) => [n, 0]));

  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    const bench = new Bench({ iterations: batchesPerRound, time: 0, warmup: false, throws: true });
    const cpu = Object.fromEntries(names.map((n) => [n, 0]));
    for (const name of order) {
      const side = sides[name];
      bench.add(name, async () => {
        const before = cpuMicros();
        side.providers.runSessions(sessionsPerBatch);
        await side.providers.flush();
        const used = cpuMicros() - before;
        cpu[name] += used;
        spansIn[name] += spansPerBatch;
        return { overriddenDuration: used / 1000 };
      });
    }
    await bench.run();
    const perSpan = Object.fromEntries(
      names.map((n) => [n, cpu[n] / (batchesPerRound * spansPerBatch)]),
    );
    for (const n of names) sides[n].perRound.push(perSpan[n]);
    progress(
      `figure 2: round ${round + 1}/${rounds}: ` +
        names.map((n) => `${n} ${perSpan[n].toFixed(2)}`).join(', ') +
        ' µs CPU/span (gross)',
    );
  }
  for (const name of names) {
    bytesSeen[name] = sides[name].exporter.bytes;
    await sides[name].providers.shutdown();
  }

  // Net = gross − the SDK's own span cost in the same round; the ratio is the median over rounds.
  const net = (name) => sides[name].perRound.map((v, i) => v - sides.sdk.perRound[i]);
  // Paired per round (both sides of a ratio ran in the same round), then median and IQR.
  const ratios = net('ours').map((v, i) => v / net('langfuse')[i]);
  const spread = summary(ratios);
  const ratio = spread.median;
  const m = (arr) => median(arr);
  const gross = Object.fromEntries(names.map((n) => [n, m(sides[n].perRound)]));
  const netMed = Object.fromEntries(names.filter((n) => n !== 'sdk').map((n) => [n, m(net(n))]));
  const bytesPerSpan = Object.fromEntries(
    names.map((n) => [n, spansIn[n] ? bytesSeen[n] / spansIn[n] : 0]),
  );
  const exported = Object.fromEntries(names.map((n) => [n, sides[n].exporter.spans]));
  return {
    id: 2,
    name: 'Langfuse export CPU/span: ours vs @langfuse/otel',
    measured: ratio,
    display: showRatio(spread),
    target: '<= 0.80x',
    status: verdict(ratio, ratio <= 0.8),
    context:
      `µs CPU/span beyond the SDK's ${gross.sdk.toFixed(1)}: ours ${netMed.ours.toFixed(1)}, @langfuse/otel ${netMed.langfuse.toFixed(1)} ` +
      `(default filter ${netMed.langfuse_default.toFixed(1)}), BSP floor ${netMed.floor.toFixed(1)}; ` +
      `bytes/span ours ${fmt(bytesPerSpan.ours)}, @langfuse/otel ${fmt(bytesPerSpan.langfuse)}, floor ${fmt(bytesPerSpan.floor)}; ` +
      `ratio paired per round, ${rounds} rounds x ${batchesPerRound} batches of ${sessionsPerBatch} sessions (${SPANS_PER_SESSION} spans each)`,
    details: {
      spans_per_session: SPANS_PER_SESSION,
      spans_per_side: spansIn.ours,
      rounds,
      gross_us_per_span: gross,
      net_us_per_span: netMed,
      per_round_gross_us_per_span: Object.fromEntries(names.map((n) => [n, sides[n].perRound])),
      per_round_ratio: ratios,
      bytes_per_span: bytesPerSpan,
      spans_exported: exported,
      ours_vs_floor: netMed.ours / netMed.floor,
      langfuse_vs_floor: netMed.langfuse / netMed.floor,
    },
  };
}
