// Figure 4: roster generation and load at 500,000 rows; lookups per second (tinybench).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Bench } from 'tinybench';
import { WorkerLookup, generateRoster, sampleContract } from '@lakehouse/roster';
import { fmt, median, progress, verdict } from './common.mjs';
import { performance } from 'node:perf_hooks';

const quietLogger = { warn: (message) => progress(`roster warning: ${message}`) };

export async function figure4(sizes) {
  const { rows, loads, lookupMs } = sizes;
  const dir = mkdtempSync(path.join(tmpdir(), 'lakehouse-bench-roster-'));
  try {
    const out = path.join(dir, 'roster.parquet');
    progress(`figure 4: generating ${fmt(rows)} workers`);
    const generated = await generateRoster({ rows, out, seed: 42 });
    const loadMs = [];
    let lookup;
    for (let i = 0; i < loads; i++) {
      lookup = undefined;
      const t0 = performance.now();
      lookup = await WorkerLookup.load(out, { logger: quietLogger });
      loadMs.push(performance.now() - t0);
      if (!lookup.ready) throw new Error(`roster did not load: ${lookup.error}`);
      progress(
        `figure 4: load ${i + 1}/${loads}: ${fmt(loadMs.at(-1))} ms (${fmt(lookup.size)} workers)`,
      );
    }
    const ms = median(loadMs);

    // Lookups: the validator's two calls, by candidate id (hits and phantom misses) and by contract.
    const ids = Array.from({ length: 4096 }, (_, i) =>
      i % 8 === 7 ? lookup.phantomId(i) : `W-${(i * 7919) % lookup.size}`,
    );
    const contracts = Array.from({ length: 256 }, (_, i) => sampleContract(lookup, i));
    let k = 0;
    let sink = 0;
    const bench = new Bench({ time: lookupMs, warmupTime: Math.min(200, lookupMs), throws: true });
    bench.add('get(candidate_id)', () => {
      sink += lookup.get(ids[k++ & 4095]) === undefined ? 0 : 1;
    });
    bench.add('find(contract, 10)', () => {
      sink += lookup.find({ ...contracts[k++ & 255], activeOnly: true }, 10).length;
    });
    await bench.run();
    const [get, find] = bench.tasks.map((t) =>
      t.result.state === 'completed' ? t.result.throughput.mean : NaN,
    );
    progress(`figure 4: ${fmt(get)} get/s, ${fmt(find)} find/s (${sink > 0 ? 'hits' : 'no hits'})`);
    return {
      id: 4,
      name: `roster load (${fmt(lookup.size)} rows)`,
      measured: ms,
      display: `${fmt(ms)} ms`,
      target: '< 2,000 ms',
      status: verdict(ms, ms < 2000 && lookup.size === rows),
      context: `generate ${fmt(generated.ms)} ms (${fmt(statSync(out).size / 1e6, 1)} MB parquet); ${fmt(get)} get/s, ${fmt(find)} find/s; load = median of ${loads}`,
      details: {
        rows: lookup.size,
        generate_ms: generated.ms,
        load_ms: loadMs,
        get_per_s: get,
        find_per_s: find,
        parquet_bytes: statSync(out).size,
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
