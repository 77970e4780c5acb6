#!/usr/bin/env node
// Parity script (SPEC §5): runs every fixture through our probe and through a peer command
// (or the committed expected rows) and diffs the rows byte for byte minus timestamp/daemon.
// Usage: npm run parity [-- --peer "<command>"] [--fixtures DIR] [--expected DIR]
import { readFile, readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkRowLine, compareRuns, describeRun, runProbe } from './parity-check.js';
import type { ParityResult, ProbeRun } from './parity-check.js';
import { formatTextTable } from './text-table.js';

interface Args {
  peer: string | undefined;
  fixtures: string;
  expected: string;
}

const USAGE =
  'usage: parity [--peer "<command>"] [--fixtures DIR] [--expected DIR]\n' +
  '  without --peer, rows are compared with DIR/<fixture>.jsonl in test/parity/expected\n';

function parseArgs(argv: readonly string[]): Args {
  const args: Args = {
    peer: undefined,
    fixtures: 'test/parity/fixtures',
    expected: 'test/parity/expected',
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--help' || flag === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    if (
      (flag === '--peer' || flag === '--fixtures' || flag === '--expected') &&
      value !== undefined
    ) {
      if (flag === '--peer') args.peer = value;
      else if (flag === '--fixtures') args.fixtures = value;
      else args.expected = value;
      i++;
      continue;
    }
    throw new Error(`unknown or incomplete argument ${JSON.stringify(flag)}\n${USAGE}`);
  }
  return args;
}

// The committed expected row plays the peer when no --peer is given.
async function expectedRun(dir: string, name: string): Promise<ProbeRun> {
  try {
    const stdout = await readFile(join(dir, `${name}.jsonl`), 'utf8');
    return { exitCode: 0, stdout, stderr: '', invalid: checkRowLine(stdout) };
  } catch (error) {
    return { exitCode: null, stdout: '', stderr: String(error), invalid: 'no expected row' };
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const fixturesDir = resolve(args.fixtures);
  let names: string[];
  try {
    names = (await readdir(fixturesDir))
      .filter((file) => file.endsWith('.json'))
      .sort()
      .map((file) => basename(file, '.json'));
  } catch {
    process.stderr.write(`parity: no fixtures directory at ${fixturesDir}\n`);
    return 1;
  }
  if (names.length === 0) {
    process.stderr.write(`parity: no *.json fixtures in ${fixturesDir}\n`);
    return 1;
  }
  const probe = fileURLToPath(new URL('./parity-probe.js', import.meta.url));
  const rows: string[][] = [];
  const details: string[] = [];
  let equal = 0;
  for (const name of names) {
    const input = await readFile(join(fixturesDir, `${name}.json`), 'utf8');
    const ours = await runProbe([process.execPath, probe], input);
    const peer =
      args.peer !== undefined
        ? await runProbe(args.peer, input)
        : await expectedRun(resolve(args.expected), name);
    const { result, detail } = compareRuns(ours, peer);
    if (result === 'equal') equal++;
    const peerStatus =
      args.peer === undefined && peer.exitCode === null ? 'missing' : describeRun(peer);
    rows.push([name, describeRun(ours), peerStatus, label(result)]);
    if (detail !== undefined) details.push(`${name}: ${detail}`);
    for (const [side, run] of [
      ['ours', ours],
      ['peer', peer],
    ] as const) {
      if (result !== 'equal' && run.stderr.trim() !== '')
        details.push(`${name} (${side} stderr): ${run.stderr.trim()}`);
    }
  }
  const peerHeader = args.peer !== undefined ? 'peer' : 'expected';
  process.stdout.write(formatTextTable(['fixture', 'ours', peerHeader, 'result'], rows));
  for (const line of details) process.stdout.write(line + '\n');
  const against =
    args.peer !== undefined
      ? `peer ${JSON.stringify(args.peer)}`
      : `expected rows in ${args.expected}`;
  process.stdout.write(
    `${equal}/${names.length} fixtures byte-equal (after removing timestamp and daemon) against ${against}\n`,
  );
  return equal === names.length ? 0 : 1;
}

function label(result: ParityResult): string {
  return result === 'both failed'
    ? 'BOTH FAILED (not equal)'
    : result === 'equal'
      ? 'equal'
      : result.toUpperCase();
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
