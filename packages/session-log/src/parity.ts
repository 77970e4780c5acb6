#!/usr/bin/env node
// Parity script (SPEC §5): runs every fixture through our probe and the Go and Rust reference
// producers (parity/peers), prints the matrix, and diffs rows byte for byte minus timestamp and
// daemon. Usage: npm run parity [-- --corpus N [--seed S] [--save DIR]] [--peer "<command>"]
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  classifyMatrix,
  compareRuns,
  describeRun,
  divergenceClass,
  runProbe,
} from './parity-check.js';
import type { MatrixResult, ProbeRun } from './parity-check.js';
import { buildReferencePeers } from './reference-peers.js';
import { formatTextTable } from './text-table.js';

interface Args {
  root: string;
  peers: string[];
  corpus: number | undefined;
  seed: number;
  save: string | undefined;
}

const USAGE =
  'usage: parity [--root DIR] [--peer "<command>"]... [--corpus N [--seed S] [--save DIR]]\n' +
  '  fixtures: DIR/parity/{fixtures,divergent,rejected}/*.json (all equal / Go and Rust\n' +
  '  disagree, ours follows Rust / every runtime refuses); --corpus runs N generated fixtures\n';

// What each committed fixture directory promises.
const EXPECTED: Readonly<Record<string, MatrixResult>> = {
  fixtures: 'equal',
  divergent: 'peers disagree (ours = rust)',
  rejected: 'all reject',
};

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { root: '.', peers: [], corpus: undefined, seed: 1, save: undefined };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--help' || flag === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    if (value === undefined)
      throw new Error(`unknown or incomplete argument ${JSON.stringify(flag)}\n${USAGE}`);
    if (flag === '--root') args.root = value;
    else if (flag === '--peer') args.peers.push(value);
    else if (flag === '--save') args.save = value;
    else if (flag === '--corpus' || flag === '--seed') {
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n < 0)
        throw new Error(`${flag} needs a whole number\n${USAGE}`);
      if (flag === '--corpus') args.corpus = n;
      else args.seed = n;
    } else throw new Error(`unknown argument ${JSON.stringify(flag)}\n${USAGE}`);
    i++;
  }
  return args;
}

interface Fixture {
  name: string;
  bytes: Buffer;
  expected: MatrixResult | undefined;
}

async function committedFixtures(root: string): Promise<Fixture[]> {
  const fixtures: Fixture[] = [];
  for (const [dir, expected] of Object.entries(EXPECTED)) {
    const path = join(root, 'parity', dir);
    const files = await readdir(path).catch(() => [] as string[]);
    for (const file of files.filter((f) => f.endsWith('.json')).sort()) {
      const name = (dir === 'fixtures' ? '' : `${dir}/`) + file.slice(0, -'.json'.length);
      fixtures.push({ name, bytes: await readFile(join(path, file)), expected });
    }
  }
  return fixtures;
}

// Runs `work` over `items` with at most `limit` at once (probes are processes).
async function pool<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

interface Outcome {
  fixture: Fixture;
  runs: { ours: ProbeRun; go: ProbeRun; rust: ProbeRun; extra: ProbeRun[] };
  result: MatrixResult;
  detail: string | undefined;
  extraResults: string[];
  ok: boolean;
}

function isWrong(result: MatrixResult): boolean {
  return (
    result === 'OURS DIFFERS' || result === 'PEERS DISAGREE, OURS != RUST' || result === 'FAILED'
  );
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const root = resolve(args.root);
  const peers = await buildReferencePeers(root);
  const probe = [process.execPath, fileURLToPath(new URL('./parity-probe.js', import.meta.url))];
  let fixtures: Fixture[];
  if (args.corpus !== undefined) {
    const { generateCorpus } = await import('./parity-corpus.js');
    fixtures = generateCorpus(args.corpus, args.seed).map((f) => ({ ...f, expected: undefined }));
  } else {
    fixtures = await committedFixtures(root);
    if (fixtures.length === 0) {
      process.stderr.write(`parity: no fixtures under ${join(root, 'parity')}\n`);
      return 1;
    }
  }

  const outcomes = await pool(fixtures, 4, async (fixture): Promise<Outcome> => {
    const [ours, go, rust, ...extra] = await Promise.all([
      runProbe(probe, fixture.bytes),
      runProbe(peers.go, fixture.bytes),
      runProbe(peers.rust, fixture.bytes),
      ...args.peers.map((peer) => runProbe(peer, fixture.bytes)),
    ]);
    const runs = { ours: ours as ProbeRun, go: go as ProbeRun, rust: rust as ProbeRun, extra };
    const { result, detail } = classifyMatrix(runs);
    // An extra --peer is held to byte equality with ours; two failures are never equal.
    const extraResults = extra.map((run) => compareRuns(runs.ours, run).result);
    const ok =
      (fixture.expected === undefined ? !isWrong(result) : result === fixture.expected) &&
      extraResults.every((r) => r === 'equal');
    return { fixture, runs, result, detail, extraResults, ok };
  });

  const out = (text: string): void => void process.stdout.write(text);
  const wrong = outcomes.filter((o) => !o.ok);
  if (args.corpus === undefined) {
    const headers = [
      'fixture',
      'ours',
      'go',
      'rust',
      ...args.peers.map((_, i) => `peer${i + 1}`),
      'result',
    ];
    out(
      formatTextTable(
        headers,
        outcomes.map((o) => [
          o.fixture.name,
          describeRun(o.runs.ours),
          describeRun(o.runs.go),
          describeRun(o.runs.rust),
          ...o.runs.extra.map((run, i) => `${describeRun(run)} ${o.extraResults[i] ?? ''}`),
          o.ok ? o.result : `${o.result} (expected ${o.fixture.expected ?? 'ours = rust'})`,
        ]),
      ),
    );
    for (const o of outcomes) if (o.detail !== undefined) out(`${o.fixture.name}: ${o.detail}\n`);
  } else {
    // A corpus is summarised: every class of disagreement between Go and Rust (the README's
    // divergence table names each), with one example each; anything wrong in full.
    const groups = new Map<string, Outcome[]>();
    for (const o of outcomes) {
      const key =
        o.result === 'equal' || o.result === 'all reject'
          ? o.result
          : o.result === 'peers disagree (ours = rust)'
            ? `${o.result}: ${divergenceClass(o.detail ?? '')}`
            : `${o.result}: ${o.detail ?? ''}`;
      groups.set(key, [...(groups.get(key) ?? []), o]);
    }
    out(`corpus of ${fixtures.length} generated fixtures (fast-check seed ${args.seed})\n`);
    out(
      formatTextTable(
        ['fixtures', 'outcome', 'example'],
        [...groups.entries()]
          .sort((a, b) => b[1].length - a[1].length)
          .map(([key, list]) => [list.length, key, list[0]?.fixture.name ?? '']),
      ),
    );
    if (args.save !== undefined) {
      await mkdir(args.save, { recursive: true });
      for (const list of groups.values()) {
        const example = list[0];
        if (example !== undefined)
          await writeFile(join(args.save, `${example.fixture.name}.json`), example.fixture.bytes);
      }
      out(`saved one fixture per outcome to ${args.save}\n`);
    }
  }
  const count = (result: MatrixResult): number =>
    outcomes.filter((o) => o.result === result).length;
  out(
    `${outcomes.length} fixtures: ${count('equal')} byte-equal across ours, go and rust; ` +
      `${count('peers disagree (ours = rust)')} where go and rust disagree and ours follows rust; ` +
      `${count('all reject')} refused by all three; ${wrong.length} wrong\n`,
  );
  return wrong.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`parity: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
