// `npm run bench`: what observability costs, measured side by side (issue 7).
// Usage: node bench/run.mjs [--quick] [--only 1,3] [--results PATH] [--size NAME=VALUE ...]
//   --quick         tiny sizes (the smoke test): every figure's code path, no meaningful timing
//   --only 2,5      run only these figures
//   --results PATH  where to write the JSON results (default bench/results.json)
//   --size NAME=N   override one size, e.g. --size roster.rows=100000 (names: --help)
//   --variants a,b  the stacks figure 1 compares, baseline first (exploration; see lib/variants.mjs)
// Progress goes to stderr; the table goes to stdout. Comparisons are ratios measured in ONE run,
// alternating the two sides; absolute numbers are context only (shared, noisy machines).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, environment, progress, renderTable } from './lib/common.mjs';
import { performance } from 'node:perf_hooks';

const FULL = {
  iterate: { cycles: 12, sliceSeconds: 2, warmupSeconds: 3, connections: 10, promptBytes: 1024 },
  spans: { sessionsPerBatch: 50, batchesPerRound: 10, rounds: 24 },
  sessionLog: { rowsPerBatch: 2000, batchesPerRound: 20, rounds: 10 },
  roster: { rows: 500_000, loads: 3, lookupMs: 1000 },
  duckdb: { rows: 1_000_000, runs: 3 },
  memory: { sessions: 100_000, warmup: 5_000, chunk: 10_000, connections: 10, budgetSeconds: 240 },
  scale: { cycles: 8, sliceSeconds: 2, warmupSeconds: 2, connections: 10 },
  latency: { cycles: 6, sliceSeconds: 3, warmupSeconds: 2, latencyMs: 200, promptBytes: 1024 },
  breakdown: {
    rounds: 3,
    seconds: 3,
    warmupSeconds: 3,
    connections: 10,
    promptBytes: 1024,
    floorSpans: 50_000,
  },
  console: { rows: 1_000_000, runs: 5 },
};

const QUICK = {
  iterate: { cycles: 2, sliceSeconds: 0.5, warmupSeconds: 0.5, connections: 2, promptBytes: 1024 },
  spans: { sessionsPerBatch: 2, batchesPerRound: 2, rounds: 2 },
  sessionLog: { rowsPerBatch: 50, batchesPerRound: 2, rounds: 2 },
  roster: { rows: 2_000, loads: 1, lookupMs: 20 },
  duckdb: { rows: 2_000, runs: 1 },
  memory: { sessions: 200, warmup: 50, chunk: 75, connections: 2, budgetSeconds: 30 },
  scale: { cycles: 1, sliceSeconds: 0.5, warmupSeconds: 0.5, connections: 2 },
  latency: { cycles: 1, sliceSeconds: 1, warmupSeconds: 0.5, latencyMs: 20, promptBytes: 1024 },
  breakdown: {
    rounds: 1,
    seconds: 0.5,
    warmupSeconds: 0.5,
    connections: 2,
    promptBytes: 1024,
    floorSpans: 500,
  },
  console: { rows: 2_000, runs: 1 },
};

const FIGURES = [
  { id: 1, sizes: 'iterate', load: async () => (await import('./lib/fig1-iterate.mjs')).figure1 },
  { id: 2, sizes: 'spans', load: async () => (await import('./lib/fig2-spans.mjs')).figure2 },
  {
    id: 3,
    sizes: 'sessionLog',
    load: async () => (await import('./lib/fig3-session-log.mjs')).figure3,
  },
  { id: 4, sizes: 'roster', load: async () => (await import('./lib/fig4-roster.mjs')).figure4 },
  { id: 5, sizes: 'duckdb', load: async () => (await import('./lib/fig5-duckdb.mjs')).figure5 },
  { id: 6, sizes: 'memory', load: async () => (await import('./lib/fig6-memory.mjs')).figure6 },
  { id: 7, sizes: 'scale', load: async () => (await import('./lib/fig7-scale.mjs')).figure7 },
  { id: 8, sizes: 'latency', load: async () => (await import('./lib/fig8-latency.mjs')).figure8 },
  {
    id: 9,
    sizes: 'breakdown',
    load: async () => (await import('./lib/fig9-breakdown.mjs')).figure9,
  },
  { id: 10, sizes: 'console', load: async () => (await import('./lib/fig10-console.mjs')).figure10 },
];

function usage(sizes) {
  const names = Object.entries(sizes).flatMap(([group, values]) =>
    Object.entries(values).map(([k, v]) => `  ${group}.${k}=${v}`),
  );
  return `usage: node bench/run.mjs [--quick] [--only 1,2,...] [--results PATH] [--size NAME=N ...] [--variants off,full,...]\nsizes (defaults):\n${names.join('\n')}\n`;
}

function parseArgs(argv) {
  const options = {
    quick: false,
    only: undefined,
    results: process.env.BENCH_RESULTS || path.join(REPO_ROOT, 'bench/results.json'),
    sizes: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--quick') options.quick = true;
    else if (arg === '--only')
      options.only = value()
        .split(',')
        .map((s) => Number(s.trim()));
    else if (arg === '--results') options.results = path.resolve(value());
    else if (arg === '--size') options.sizes.push(value());
    else if (arg === '--variants') options.variants = value().split(',');
    else if (arg === '--help' || arg === '-h') options.help = true;
    else throw new Error(`unknown argument ${arg}`);
  }
  return options;
}

async function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error.message}\n${usage(FULL)}`);
    return 2;
  }
  const sizes = JSON.parse(JSON.stringify(options.quick ? QUICK : FULL));
  if (options.help) {
    process.stdout.write(usage(sizes));
    return 0;
  }
  for (const spec of options.sizes) {
    const m = /^(\w+)\.(\w+)=(\d+(?:\.\d+)?)$/.exec(spec);
    if (!m || sizes[m[1]]?.[m[2]] === undefined) {
      process.stderr.write(`bad --size ${spec}\n${usage(sizes)}`);
      return 2;
    }
    sizes[m[1]][m[2]] = Number(m[3]);
  }
  // Exploration: which stacks the end-to-end figures compare (the first is the baseline).
  if (options.variants !== undefined) {
    for (const group of Object.values(sizes))
      if ('cycles' in group || 'rounds' in group) group.variants = options.variants;
  }
  const selected = FIGURES.filter((f) => options.only === undefined || options.only.includes(f.id));
  const env = environment();
  progress(
    `node ${env.node}, ${env.cpu_count} x ${env.cpu_model}, commit ${env.git_commit.slice(0, 12)}${env.git_dirty ? ' (dirty)' : ''}${options.quick ? ', QUICK sizes' : ''}`,
  );

  const results = [];
  let crashed = false;
  for (const figure of selected) {
    progress(`figure ${figure.id}: start`);
    const t0 = performance.now();
    try {
      const run = await figure.load();
      const result = await run(sizes[figure.sizes]);
      result.seconds = Math.round((performance.now() - t0) / 100) / 10;
      result.sizes = sizes[figure.sizes];
      results.push(result);
      progress(
        `figure ${figure.id}: ${result.display} (target ${result.target}) ${result.status} in ${result.seconds} s`,
      );
    } catch (error) {
      crashed = true;
      progress(`figure ${figure.id}: FAILED: ${error?.stack ?? error}`);
      results.push({
        id: figure.id,
        name: `figure ${figure.id}`,
        measured: null,
        display: 'error',
        target: '',
        status: 'ERROR',
        context: String(error?.message ?? error).split('\n')[0],
        sizes: sizes[figure.sizes],
      });
    }
  }

  const table = renderTable(
    ['#', 'figure', 'measured', 'target', 'result', 'context'],
    results.map((r) => [String(r.id), r.name, r.display, r.target, r.status, r.context]),
  );
  const header = `npm run bench${options.quick ? ' -- --quick' : ''}  (${env.date}, node ${env.node}, ${env.cpu_count} x ${env.cpu_model})`;
  process.stdout.write(`\n${header}\n\n${table}\n\n`);
  for (const r of results) if (r.report) process.stdout.write(`${r.report}\n\n`);
  mkdirSync(path.dirname(options.results), { recursive: true });
  writeFileSync(
    options.results,
    `${JSON.stringify({ ...env, quick: options.quick, figures: results }, null, 2)}\n`,
  );
  progress(
    `results written to ${path.relative(process.cwd(), options.results) || options.results}`,
  );
  return crashed ? 1 : 0;
}

process.exitCode = await main();
