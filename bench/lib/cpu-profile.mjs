// Reads V8 `.cpuprofile` files and splits their samples into components of the stack. A sample
// is charged to the library (or Node module) of the JS function it was taken in; native code
// (JSON.stringify, RegExp, writev, …) is charged to the nearest JS function that called it. So
// a JSON.stringify called by the translator is the translator's, Node's http work is "Node http"
// whoever called it, and the app's own code and libraries (express, axios, …) are "app + libraries".
// Wrappers (instrumentation, context managers) are charged only their own code, not what they wrap.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

// First match wins, tested against "url functionName". Order: most specific first.
const RULES = [
  ['mask (secret patterns)', /langfuse-processor\/dist\/src\/mask\.js/],
  ['Langfuse translate', /langfuse-processor\/dist\/src\/translate-span\.js/],
  ['Langfuse processor (place, queue)', /langfuse-processor\/dist\/src\//],
  ['@langfuse/otel', /node_modules\/@langfuse\//],
  [
    'OTLP serialise + export',
    /@opentelemetry\/(otlp-transformer|otlp-exporter-base|exporter-trace-otlp|otlp-grpc|exporter-.*-otlp)/,
  ],
  ['session log', /session-log\/dist\/src\//],
  [
    'http/express instrumentation',
    /@opentelemetry\/instrumentation-(http|express)|@opentelemetry\/instrumentation\/|require-in-the-middle|import-in-the-middle|shimmer/,
  ],
  [
    'other auto-instrumentations',
    /@opentelemetry\/instrumentation-|@opentelemetry\/auto-instrumentations/,
  ],
  [
    'request trace + hop signature (telemetry)',
    /telemetry\/dist\/src\/(request-trace|request-telemetry|hop-signature|propagator)\.js/,
  ],
  ['metric label bounds (telemetry)', /telemetry\/dist\/src\/metric-bounds\.js/],
  [
    'propagation (OTel core)',
    /@opentelemetry\/core\/build\/src\/(trace\/W3CTraceContext|baggage|propagation)/,
  ],
  [
    'context manager',
    /telemetry\/dist\/src\/context-manager\.js|@opentelemetry\/context-async-hooks|@opentelemetry\/api\/build\/src\/(context|api\/context)/,
  ],
  [
    'async hooks (Node)',
    /^node:(internal\/async_hooks|internal\/async_local_storage|async_hooks|internal\/async_context_frame)/,
  ],
  ['span create/end (SDK)', /@opentelemetry\/sdk-trace(-base|-node)?\//],
  ['metrics (SDK)', /@opentelemetry\/(sdk-metrics|exporter-prometheus)/],
  ['logs (SDK)', /@opentelemetry\/(sdk-logs|api-logs)/],
  ['OTel API/core glue', /@opentelemetry\/(api|core|resources|semantic-conventions)\//],
  ['telemetry pkg (other)', /telemetry\/dist\/src\//],
  [
    'logging (winston)',
    /node_modules\/(winston|logform|winston-transport|@colors|safe-stable-stringify|triple-beam|readable-stream)\//,
  ],
  ['Node http', /^node:(_http_|http |https |internal\/http)/],
  ['Node streams + net', /^node:(net |stream |internal\/stream|internal\/streams|internal\/net)/],
  ['Node events', /^node:events /],
  ['Node ticks + timers', /^node:(internal\/process\/task_queues|internal\/timers|timers )/],
];

const SPECIAL = {
  '(garbage collector)': 'GC',
  '(program)': 'V8/native (program)',
  '(idle)': null,
  '(root)': null,
};

/** Component names in display order (the "app + node" rest and GC last). */
export const COMPONENTS = [
  ...RULES.map(([name]) => name),
  'Node (other)',
  'GC',
  'V8/native (program)',
  'app + libraries',
];

function classifier(profile) {
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const own = new Map();
  for (const n of profile.nodes) {
    const { functionName, url } = n.callFrame;
    if (url === '') {
      // Native code: V8's pseudo-frames have a component of their own, the rest is the caller's.
      if (functionName in SPECIAL) own.set(n.id, SPECIAL[functionName]);
      continue;
    }
    const key = `${url.replace(/^file:\/\//, '')} ${functionName}`;
    const rule = RULES.find(([, re]) => re.test(key));
    own.set(n.id, rule ? rule[0] : url.startsWith('node:') ? 'Node (other)' : 'app + libraries');
  }
  const memo = new Map();
  return (id) => {
    if (memo.has(id)) return memo.get(id);
    let at = id;
    while (at !== undefined && !own.has(at)) at = parent.get(at);
    const result = at === undefined ? 'V8/native (program)' : own.get(at);
    memo.set(id, result);
    return result;
  };
}

/**
 * CPU microseconds per component in the samples of `profile` whose timestamps fall in
 * [fromMicros, toMicros] (CLOCK_MONOTONIC µs, the clock of process.hrtime). Idle is excluded.
 */
export function componentMicros(profile, fromMicros = -Infinity, toMicros = Infinity) {
  const classify = classifier(profile);
  const out = {};
  let t = profile.startTime;
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    t += timeDeltas[i];
    // Each sample stands for the interval up to the next one.
    const dt = i + 1 < timeDeltas.length ? timeDeltas[i + 1] : 0;
    if (t < fromMicros || t > toMicros) continue;
    const component = classify(samples[i]);
    if (component === null || component === undefined) continue;
    out[component] = (out[component] ?? 0) + dt;
  }
  return out;
}

/**
 * Bytes allocated per component in a sampled heap profile (`.heapprofile`, collected objects
 * included): each allocation site's self size, charged like CPU samples (native allocations to
 * the nearest JS caller).
 */
export function componentBytes(heapProfile) {
  const nodes = [];
  const walk = (node) => {
    nodes.push({
      id: node.id,
      callFrame: node.callFrame,
      selfSize: node.selfSize,
      children: (node.children ?? []).map((c) => c.id),
    });
    for (const c of node.children ?? []) walk(c);
  };
  walk(heapProfile.head);
  const classify = classifier({ nodes });
  const out = {};
  for (const n of nodes) {
    const component = classify(n.id);
    if (component === null || component === undefined || n.selfSize === 0) continue;
    out[component] = (out[component] ?? 0) + n.selfSize;
  }
  return out;
}

/** Every `.heapprofile` in `dir`, parsed. */
export function readHeapProfiles(dir) {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.heapprofile'))
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')));
}

/** Every `.cpuprofile` in `dir`, parsed. */
export function readProfiles(dir) {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')));
}

/** Sums component maps. */
export function addComponents(...maps) {
  const out = {};
  for (const m of maps) for (const [k, v] of Object.entries(m)) out[k] = (out[k] ?? 0) + v;
  return out;
}
