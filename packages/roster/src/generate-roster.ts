import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DuckDBInstance } from '@duckdb/node-api';
import { CITIES, CLIENT_COUNT, FIRST_NAMES, LAST_NAMES, ROLES } from './roster-data.js';
import { formatForPath, sqlString, sqlStringList } from './sql.js';

/** Options for {@link generateRoster}. `seed` defaults to {@link DEFAULT_ROSTER_SEED}. */
export interface GenerateRosterOptions {
  rows: number;
  out: string;
  seed?: number;
  onProgress?: (message: string) => void;
}

/** What {@link generateRoster} wrote. */
export interface GenerateRosterResult {
  rows: number;
  path: string;
  ms: number;
}

/** Seed used when none is given, so `npm start` and the docs agree on the sample roster. */
export const DEFAULT_ROSTER_SEED = 42;

/** Largest roster the generator accepts; worker_id is a 32-bit INTEGER column. */
export const MAX_ROSTER_ROWS = 100_000_000;

const PROGRESS_INTERVAL_MS = 500;

/** A SQL expression picking a 1-based index by weight: `[1,1,2,…][1 + hash % len]`. */
function weightedPick(weights: readonly number[], hashColumn: string): string {
  const indices: number[] = [];
  weights.forEach((w, i) => {
    for (let k = 0; k < w; k++) indices.push(i + 1);
  });
  return `[${indices.join(',')}][1 + (${hashColumn} % ${indices.length})::INTEGER]`;
}

/**
 * The SELECT that produces the roster. Every choice is hash(i, seed, salt), so the
 * rows are a pure function of (rows, seed) and DuckDB does all the work in parallel.
 */
function rosterSelectSql(rows: number, seed: number): string {
  // hash(a, b) combines as (hash(a) * C) ^ hash(b), so two salts over the same row differ only by
  // a constant XOR and their low bits stay correlated. Re-hashing (h0 XOR salt) mixes them fully.
  const h = (salt: number): string => `hash(xor(h0, ${salt}::UBIGINT))`;
  const client = (n: string): string => `printf('C-%03d', ${n})`;
  return `
WITH seeded AS (
  SELECT i, hash(i, ${seed}::BIGINT) AS h0 FROM range(${rows}) t(i)
), base AS (
  SELECT i,
    ${h(1)} AS h_first, ${h(2)} AS h_last, ${h(3)} AS h_city,
    ${h(4)} AS h_role, ${h(5)} AS h_avail, ${h(6)} AS h_black
  FROM seeded
), picked AS (
  SELECT i, h_first, h_last, h_avail, h_black,
    ${weightedPick(
      CITIES.map((c) => c.weight),
      'h_city',
    )} AS ci,
    ${weightedPick(
      ROLES.map((r) => r.weight),
      'h_role',
    )} AS ri,
    1 + ((h_black // 100) % ${CLIENT_COUNT})::INTEGER AS b1,
    1 + ((h_black // 100 + 1 + (h_black // 10000) % ${CLIENT_COUNT - 1}) % ${CLIENT_COUNT})::INTEGER AS b2
  FROM base
)
SELECT
  CAST(i + 1 AS INTEGER) AS worker_id,
  ${sqlStringList(FIRST_NAMES)}[1 + (h_first % ${FIRST_NAMES.length})::INTEGER] || ' ' ||
    ${sqlStringList(LAST_NAMES)}[1 + (h_last % ${LAST_NAMES.length})::INTEGER] AS name,
  ${sqlStringList(ROLES.map((r) => r.role))}[ri] AS role,
  ${sqlStringList(CITIES.map((c) => c.city))}[ci] AS city,
  ${sqlStringList(CITIES.map((c) => c.state))}[ci] AS state,
  CAST(CASE WHEN h_avail % 100 < 15 THEN 0 ELSE 1 + (h_avail // 100) % 5 END AS INTEGER) AS availability,
  CASE
    WHEN h_black % 100 >= 5 THEN ''
    WHEN (h_black // 1000000) % 2 = 0 THEN ${client('b1')}
    ELSE ${client('b1')} || ';' || ${client('b2')}
  END AS blacklisted_clients
FROM picked
ORDER BY i`;
}

/**
 * Writes a deterministic sample roster (same rows+seed → identical bytes) as Parquet or CSV,
 * chosen by the extension of `out`. Writes to a temp file and renames, so readers never see a
 * partial roster. Rejects on invalid options or I/O errors.
 */
export async function generateRoster(
  options: GenerateRosterOptions,
): Promise<GenerateRosterResult> {
  const { rows, out } = options;
  const seed = options.seed ?? DEFAULT_ROSTER_SEED;
  const progress = options.onProgress ?? ((): void => {});
  if (!Number.isSafeInteger(rows) || rows < 1 || rows > MAX_ROSTER_ROWS) {
    throw new RangeError(`rows must be an integer between 1 and ${MAX_ROSTER_ROWS}, got ${rows}`);
  }
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
  }
  if (out.length === 0) throw new RangeError('out must be a file path');

  const started = performance.now();
  const format = formatForPath(out);
  const tmp = `${out}.tmp-${process.pid}`;
  await mkdir(dirname(out), { recursive: true });
  progress(`generating ${rows} workers (seed ${seed}) as ${format} -> ${out}`);

  const copyOptions =
    format === 'csv'
      ? "FORMAT csv, HEADER true, DELIMITER ','"
      : // zstd keeps a 500k roster small; fixed row groups keep output independent of threads.
        'FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880';
  const sql = `COPY (${rosterSelectSql(rows, seed)}) TO ${sqlString(tmp)} (${copyOptions})`;

  const instance = await DuckDBInstance.create(':memory:');
  let timer: NodeJS.Timeout | undefined;
  try {
    const connection = await instance.connect();
    try {
      await connection.run('SET enable_progress_bar = true');
      timer = setInterval(() => {
        const p = connection.progress;
        if (p.percentage > 0) progress(`  ${p.percentage.toFixed(0)}%`);
      }, PROGRESS_INTERVAL_MS);
      timer.unref();
      await connection.run(sql);
    } finally {
      clearInterval(timer);
      connection.closeSync();
    }
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  } finally {
    instance.closeSync();
  }
  await rename(tmp, out);
  const ms = Math.round(performance.now() - started);
  const { size } = await stat(out);
  progress(`wrote ${rows} workers to ${out} (${size} bytes) in ${ms} ms`);
  return { rows, path: out, ms };
}
