import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBIntegerVector, DuckDBVarCharVector } from '@duckdb/node-api';
import { normalizeRosterValue } from './contract.js';
import { formatForPath, sqlString } from './sql.js';
import { CANDIDATE_ID_PREFIX } from './worker.js';
import type { Worker } from './worker.js';

/** Columns a roster file must have (SPEC §2). */
export const ROSTER_COLUMNS = [
  'worker_id',
  'name',
  'role',
  'city',
  'state',
  'availability',
  'blacklisted_clients',
] as const;

/** A roster file read into memory: workers in worker_id order and the (city, state, role) index. */
export interface LoadedRoster {
  workers: Worker[];
  /** By {@link groupKey}; each list in worker_id order. */
  byGroup: Map<string, Worker[]>;
  /** Rows without a usable worker_id. */
  skipped: number;
  /** Rows whose worker_id appeared before. */
  duplicates: number;
}

const EMPTY_LIST: readonly string[] = Object.freeze([]);
const NAME_SEPARATOR = '\u001f';
// Names travel as one string per block: decoding 2M short strings one by one costs more than the rest of the load.
const NAME_BLOCK_ROWS = 16384;

/** Index key of a (city, state, role) triple, normalised like every roster comparison. */
export function groupKey(city: string, state: string, role: string): string {
  return `${normalizeRosterValue(city)}|${normalizeRosterValue(state)}|${normalizeRosterValue(role)}`;
}

function splitClients(value: string): readonly string[] {
  const ids = value
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return ids.length === 0 ? EMPTY_LIST : ids;
}

/**
 * Reads a Parquet or CSV roster (by extension) with DuckDB into workers sorted by worker_id.
 * Rows without a usable worker_id and repeated ids are skipped and counted. Throws on any DuckDB
 * error (missing columns included).
 */
export async function readRosterFile(path: string): Promise<LoadedRoster> {
  const instance = await DuckDBInstance.create(':memory:');
  try {
    const connection = await instance.connect();
    try {
      return await readWithConnection(connection, path);
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

async function readWithConnection(c: DuckDBConnection, path: string): Promise<LoadedRoster> {
  const p = sqlString(path);
  const csv = formatForPath(path) === 'csv';
  const describe = async (reader: string): Promise<Map<string, string>> => {
    const described = await c.runAndReadAll(`DESCRIBE SELECT * FROM ${reader}`);
    const types = new Map<string, string>();
    for (const row of described.getRowObjectsJS()) {
      types.set(String(row['column_name']), String(row['column_type']));
    }
    return types;
  };
  // Check columns before typing them, so a wrong file names what is missing.
  const found = await describe(csv ? `read_csv(${p}, header = true)` : `read_parquet(${p})`);
  const missing = ROSTER_COLUMNS.filter((col) => !found.has(col));
  if (missing.length > 0) {
    throw new Error(
      `missing column(s) ${missing.join(', ')} (found ${[...found.keys()].join(', ')}; ` +
        `expected ${ROSTER_COLUMNS.join(', ')})`,
    );
  }
  // CSV gets explicit VARCHAR types: no sniffing surprises (an all-empty blacklist column, ids
  // with leading zeros); values are cast below with TRY_CAST so one bad row is skipped, not fatal.
  const reader = csv
    ? `read_csv(${p}, header = true, types = {${ROSTER_COLUMNS.map((col) => `'${col}': 'VARCHAR'`).join(', ')}})`
    : `read_parquet(${p})`;
  const types = csv ? await describe(reader) : found;
  // blacklisted_clients is a ';'-joined VARCHAR in our files; other producers may write a LIST.
  const blacklistType = types.get('blacklisted_clients') ?? 'VARCHAR';
  const blacklistExpr = blacklistType.endsWith('[]')
    ? `array_to_string(blacklisted_clients, ';')`
    : `CAST(blacklisted_clients AS VARCHAR)`;
  const text = (col: string): string => `coalesce(CAST(${col} AS VARCHAR), '')`;

  await c.run(`CREATE TEMP TABLE src AS SELECT
      TRY_CAST(worker_id AS INTEGER) AS worker_id,
      replace(${text('name')}, chr(31), ' ') AS name,
      ${text('role')} AS role, ${text('city')} AS city, ${text('state')} AS state,
      coalesce(TRY_CAST(availability AS INTEGER), 0) AS availability,
      NULLIF(coalesce(${blacklistExpr}, ''), '') AS bl
    FROM ${reader}`);
  const counts = await c.runAndReadAll(`SELECT
      count(*) FILTER (WHERE worker_id IS NULL OR worker_id < 0)::INTEGER AS skipped,
      count(*) FILTER (WHERE worker_id >= 0)::INTEGER AS valid,
      (count(worker_id) FILTER (WHERE worker_id >= 0) - count(DISTINCT worker_id) FILTER (WHERE worker_id >= 0))::INTEGER AS duplicates
    FROM src`);
  const countRow = counts.getRowObjectsJS()[0] ?? {};
  const skipped = Number(countRow['skipped'] ?? 0);
  const duplicates = Number(countRow['duplicates'] ?? 0);
  const valid = Number(countRow['valid'] ?? 0);

  // Low-cardinality strings travel once per group: the rows carry only a group number.
  await c.run(`CREATE TEMP TABLE g AS
    SELECT (row_number() OVER (ORDER BY city, state, role) - 1)::INTEGER AS gid, city, state, role
    FROM (SELECT DISTINCT city, state, role FROM src)`);
  const groups = (await c.runAndReadAll('SELECT city, state, role FROM g ORDER BY gid'))
    .getRowObjectsJS()
    .map((r) => ({ city: String(r['city']), state: String(r['state']), role: String(r['role']) }));
  // Insertion order is kept, so rowid is the 0-based position in worker_id order.
  await c.run(`CREATE TEMP TABLE r AS
    SELECT worker_id, name, gid, availability, bl
    FROM src JOIN g USING (city, state, role)
    WHERE worker_id >= 0
    ORDER BY worker_id`);

  const ids = new Int32Array(valid);
  const gids = new Int32Array(valid);
  const avail = new Int32Array(valid);
  let row = 0;
  const ints = await c.stream('SELECT worker_id, gid, availability FROM r ORDER BY rowid');
  for (;;) {
    const chunk = await ints.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const idVec = chunk.getColumnVector(0) as DuckDBIntegerVector;
    const gidVec = chunk.getColumnVector(1) as DuckDBIntegerVector;
    const avVec = chunk.getColumnVector(2) as DuckDBIntegerVector;
    for (let i = 0; i < chunk.rowCount && row < valid; i++, row++) {
      ids[row] = idVec.getItem(i) ?? 0;
      gids[row] = gidVec.getItem(i) ?? 0;
      avail[row] = avVec.getItem(i) ?? 0;
    }
  }
  if (row !== valid) throw new Error(`internal: read ${row} of ${valid} workers`);

  const names: string[] = [];
  const nameBlocks = await c.stream(`SELECT string_agg(name, chr(31) ORDER BY rowid) AS names
    FROM r GROUP BY rowid // ${NAME_BLOCK_ROWS} ORDER BY rowid // ${NAME_BLOCK_ROWS}`);
  for (;;) {
    const chunk = await nameBlocks.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const vec = chunk.getColumnVector(0) as DuckDBVarCharVector;
    for (let i = 0; i < chunk.rowCount; i++) {
      for (const name of (vec.getItem(i) ?? '').split(NAME_SEPARATOR)) names.push(name);
    }
  }
  if (names.length !== ids.length) {
    throw new Error(`internal: read ${names.length} names for ${ids.length} workers`);
  }

  // Few workers have a blacklist: fetch only those, in row order, and merge by walking both.
  const bl = await c.runAndReadAll(
    'SELECT rowid::INTEGER AS rn, bl FROM r WHERE bl IS NOT NULL ORDER BY rowid',
  );
  const [blRows = [], blValues = []] = bl.getColumnsJS();
  let blNext = 0;

  const workers = new Array<Worker>(ids.length);
  const groupLists = groups.map((): Worker[] => []);
  for (let i = 0; i < ids.length; i++) {
    const workerId = String(ids[i]);
    const gid = gids[i] ?? 0;
    const group = groups[gid] ?? { city: '', state: '', role: '' };
    let clients: string | undefined;
    if (blNext < blRows.length && blRows[blNext] === i) clients = String(blValues[blNext++]);
    const worker: Worker = {
      workerId,
      candidateId: CANDIDATE_ID_PREFIX + workerId,
      name: names[i] ?? '',
      role: group.role,
      city: group.city,
      state: group.state,
      availability: avail[i] ?? 0,
      blacklistedClients: clients === undefined ? EMPTY_LIST : splitClients(clients),
    };
    workers[i] = worker;
    groupLists[gid]?.push(worker);
  }
  // Group lists come out in worker_id order; grouping by gid avoids normalising 1.5M strings.
  const byGroup = new Map<string, Worker[]>();
  groups.forEach((g, gid) => {
    const key = groupKey(g.city, g.state, g.role);
    const list = groupLists[gid] ?? [];
    const existing = byGroup.get(key);
    if (existing === undefined) {
      byGroup.set(key, list);
    } else {
      // Only when values differ by case or whitespace alone: merge and restore id order.
      existing.push(...list);
      existing.sort((a, b) => Number(a.workerId) - Number(b.workerId));
    }
  });
  return { workers, byGroup, skipped, duplicates };
}
