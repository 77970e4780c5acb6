#!/usr/bin/env node
// Roster CLI: `--rows N --out FILE [--seed S]` generates a sample roster; `--check FILE` loads one.
import { stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { DEFAULT_ROSTER_SEED, MAX_ROSTER_ROWS, generateRoster } from './generate-roster.js';
import { sampleContract } from './sample-contract.js';
import { WorkerLookup } from './worker-lookup.js';

const USAGE = `usage:
  roster --rows N --out FILE [--seed S]   generate a sample roster (.parquet or .csv by extension)
  roster --check FILE                     load a roster and report size, active count, load time

  --rows N    number of workers, 1..${MAX_ROSTER_ROWS}
  --out FILE  output path; .csv writes CSV, anything else Parquet
  --seed S    non-negative integer (default ${DEFAULT_ROSTER_SEED}); same rows+seed = identical file`;

class UsageError extends Error {}

function parseIntArg(name: string, value: string, min: number, max: number): number {
  if (!/^[0-9]+$/.test(value)) throw new UsageError(`--${name} must be an integer, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max)
    throw new UsageError(`--${name} must be between ${min} and ${max}, got ${value}`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  let values: { rows?: string; out?: string; seed?: string; check?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        rows: { type: 'string' },
        out: { type: 'string' },
        seed: { type: 'string' },
        check: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  if (values.check !== undefined) {
    if (values.rows !== undefined || values.out !== undefined || values.seed !== undefined) {
      throw new UsageError('--check cannot be combined with --rows/--out/--seed');
    }
    if (values.check === '') throw new UsageError('--check needs a file path');
    const lookup = await WorkerLookup.load(values.check, {
      logger: { warn: (message) => process.stderr.write(`warning: ${message}\n`) },
    });
    if (!lookup.ready) {
      process.stderr.write(`check failed: ${lookup.error ?? 'not ready'}\n`);
      return 1;
    }
    const share = ((100 * lookup.activeCount) / lookup.size).toFixed(1);
    const contract = sampleContract(lookup, 0);
    process.stdout.write(
      `ok ${lookup.source}: ${lookup.size} workers, ${lookup.activeCount} active (${share}%), ` +
        `loaded in ${lookup.loadMs} ms; sample contract ${JSON.stringify(contract)}\n`,
    );
    return 0;
  }

  if (values.rows === undefined) throw new UsageError('missing --rows');
  if (values.out === undefined || values.out === '') throw new UsageError('missing --out');
  const rows = parseIntArg('rows', values.rows, 1, MAX_ROSTER_ROWS);
  const seed =
    values.seed === undefined
      ? DEFAULT_ROSTER_SEED
      : parseIntArg('seed', values.seed, 0, Number.MAX_SAFE_INTEGER);
  const result = await generateRoster({
    rows,
    out: values.out,
    seed,
    onProgress: (message) => process.stdout.write(`${message}\n`),
  });
  const { size } = await stat(result.path);
  process.stdout.write(
    `done: rows=${result.rows} path=${result.path} size=${size} bytes ms=${result.ms}\n`,
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n\n${USAGE}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
