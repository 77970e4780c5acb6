import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBIntegerVector, DuckDBVarCharVector } from '@duckdb/node-api';
import { CITIES, ROLES } from './roster-data.js';
import { formatForPath, sqlString } from './sql.js';
import { CANDIDATE_ID_PREFIX, isActive, parseCandidateId } from './worker.js';
import type { Worker } from './worker.js';

/** Which workers {@link WorkerLookup.find} returns; every given field must match (case-insensitive, trimmed). */
export interface WorkerFilter {
  city?: string;
  state?: string;
  role?: string;
  activeOnly?: boolean;
}

/** The logger the lookup reports to; winston and pino loggers fit. */
export interface RosterLogger {
  warn(message: string, meta?: Record<string, unknown>): void;
  info?(message: string, meta?: Record<string, unknown>): void;
}

/** Options for {@link WorkerLookup.load}. Without a logger, warnings go to `process.emitWarning`. */
export interface WorkerLookupLoadOptions {
  logger?: RosterLogger;
}

/** A (city, state, role) triple, the shape of a fill contract. */
export interface RosterContract {
  city: string;
  state: string;
  role: string;
}

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

const EMPTY_LIST: readonly string[] = Object.freeze([]);
const NAME_SEPARATOR = '\u001f';
// Names travel as one string per block: decoding 2M short strings one by one costs more than the rest of the load.
const NAME_BLOCK_ROWS = 16384;
const MIN_CONTRACT_WORKERS = 5;
const FALLBACK_CONTRACT: RosterContract = {
  city: CITIES[0]?.city ?? 'Chicago',
  state: CITIES[0]?.state ?? 'IL',
  role: ROLES[0]?.role ?? 'warehouse associate',
};

function groupKey(city: string, state: string, role: string): string {
  return `${norm(city)}|${norm(state)}|${norm(role)}`;
}

function norm(value: string): string {
  return value.trim().toLowerCase();
}

function splitClients(value: string): readonly string[] {
  const ids = value
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return ids.length === 0 ? EMPTY_LIST : ids;
}

/** Quotes a path for the copy-paste hint only when the shell would need it. */
function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}

function defaultLogger(): RosterLogger {
  return {
    warn(message, meta) {
      process.emitWarning(meta === undefined ? message : `${message} ${JSON.stringify(meta)}`, {
        code: 'LAKEHOUSE_ROSTER',
      });
    },
  };
}

interface LoadedRows {
  workers: Worker[];
  byGroup: Map<string, Worker[]>;
  skipped: number;
  duplicates: number;
}

/**
 * An in-memory, read-only index of the worker roster. Build it with {@link WorkerLookup.load}
 * (never throws) or {@link WorkerLookup.fromWorkers}. Lookups are synchronous and never throw.
 */
export class WorkerLookup {
  /** True when a roster with at least one worker was loaded. Drives the readiness probe. */
  readonly ready: boolean;
  /** Number of workers. */
  readonly size: number;
  /** Number of active workers (availability > 0). */
  readonly activeCount: number;
  /** Where the workers came from: the file path, or the label given to `fromWorkers`. */
  readonly source: string;
  /** Why the lookup is not ready; undefined when it is. */
  readonly error: string | undefined;
  /** Wall time of the load, in milliseconds. */
  readonly loadMs: number;

  // Sorted by ascending numeric worker_id; find() and sampleContract() rely on this order.
  private readonly _workers: readonly Worker[];
  private readonly _byId: Map<number, Worker> | (Worker | undefined)[];
  private readonly _byGroup: Map<string, Worker[]>;
  private readonly _maxId: number;
  private _contracts: RosterContract[] | undefined;

  private constructor(
    workers: readonly Worker[],
    source: string,
    error: string | undefined,
    started: number,
    byGroup?: Map<string, Worker[]>,
  ) {
    this._workers = workers;
    this.size = workers.length;
    this.source = source;
    this.error = error ?? (workers.length === 0 ? `roster ${source} has no workers` : undefined);
    this.ready = this.error === undefined;

    let maxId = 0;
    let active = 0;
    for (const w of workers) {
      const id = Number(w.workerId);
      if (id > maxId) maxId = id;
      if (isActive(w)) active++;
    }
    this._maxId = maxId;
    this.activeCount = active;
    this._byGroup = byGroup ?? groupWorkers(workers);
    // A dense array beats a Map by ~4x to build at 500k rows; ids are dense in any sane roster.
    if (maxId <= workers.length * 2 + 1024) {
      const arr = new Array<Worker | undefined>(maxId + 1);
      for (const w of workers) {
        const id = Number(w.workerId);
        if (arr[id] === undefined) arr[id] = w;
      }
      this._byId = arr;
    } else {
      const map = new Map<number, Worker>();
      for (const w of workers) {
        const id = Number(w.workerId);
        if (!map.has(id)) map.set(id, w);
      }
      this._byId = map;
    }
    this.loadMs = Math.round(performance.now() - started);
  }

  /**
   * Loads a Parquet or CSV roster (by extension) with DuckDB. Never throws: a missing,
   * unreadable or invalid file gives an empty lookup with `ready=false`, `error` set and a loud warning.
   */
  static async load(path: string, options: WorkerLookupLoadOptions = {}): Promise<WorkerLookup> {
    const logger = options.logger ?? defaultLogger();
    const started = performance.now();
    let error: string;
    try {
      const info = await stat(path).catch(() => undefined);
      if (info === undefined) {
        error = `roster file not found: ${path}`;
      } else if (!info.isFile()) {
        error = `roster path is not a file: ${path}`;
      } else {
        const loaded = await readRoster(path);
        const lookup = new WorkerLookup(loaded.workers, path, undefined, started, loaded.byGroup);
        if (loaded.skipped > 0 || loaded.duplicates > 0) {
          logger.warn('roster rows ignored', {
            path,
            rowsWithoutWorkerId: loaded.skipped,
            duplicateWorkerIds: loaded.duplicates,
          });
        }
        if (lookup.ready) {
          logger.info?.('roster loaded', {
            path,
            workers: lookup.size,
            active: lookup.activeCount,
            loadMs: lookup.loadMs,
          });
          return lookup;
        }
        error = lookup.error ?? `roster ${path} has no workers`;
      }
    } catch (err) {
      // DuckDB appends a multi-line SQL excerpt; the first line carries the cause.
      const cause = (err instanceof Error ? err.message : String(err)).split('\n')[0];
      error = `roster file ${path} could not be read: ${cause}`;
    }
    logger.warn(
      `ROSTER NOT LOADED: ${error}. Fill validation will reject every candidate and readiness will fail. ` +
        `Create one with: npm run roster -- --rows 2000 --out ${shellQuote(path)}`,
      { path, error },
    );
    return new WorkerLookup([], path, error, started);
  }

  /**
   * Builds a lookup from workers in memory (tests, demos); ready unless empty. Copies the list,
   * sorts it by worker_id and drops workers whose workerId is not a non-negative integer.
   */
  static fromWorkers(workers: readonly Worker[], source = 'memory'): WorkerLookup {
    const started = performance.now();
    const sorted = workers
      .filter((w) => /^[0-9]+$/.test(w.workerId) && Number.isSafeInteger(Number(w.workerId)))
      .sort((a, b) => Number(a.workerId) - Number(b.workerId));
    return new WorkerLookup(sorted, source, undefined, started);
  }

  /** The worker with this candidate id (`W-<worker_id>`, canonical form), or undefined. */
  get(candidateId: string): Worker | undefined {
    const id = parseCandidateId(candidateId);
    if (id === undefined) return undefined;
    return Array.isArray(this._byId) ? this._byId[id] : this._byId.get(id);
  }

  /**
   * Workers matching every given filter field, in ascending worker_id order, skipping `offset`
   * matches and returning at most `limit`. An exact (city, state, role) filter is an index lookup.
   */
  find(filter: WorkerFilter, limit: number, offset = 0): Worker[] {
    const out: Worker[] = [];
    if (!(limit > 0)) return out;
    let skip = Math.max(0, Math.trunc(offset) || 0);
    const city = filter.city === undefined ? undefined : norm(filter.city);
    const state = filter.state === undefined ? undefined : norm(filter.state);
    const role = filter.role === undefined ? undefined : norm(filter.role);
    const activeOnly = filter.activeOnly === true;

    let candidates: readonly Worker[];
    let needsCheck = true;
    if (city !== undefined && state !== undefined && role !== undefined) {
      candidates = this._byGroup.get(`${city}|${state}|${role}`) ?? EMPTY_WORKERS;
      needsCheck = false;
    } else {
      candidates = this._workers;
    }
    for (const w of candidates) {
      if (activeOnly && !isActive(w)) continue;
      if (needsCheck) {
        if (city !== undefined && norm(w.city) !== city) continue;
        if (state !== undefined && norm(w.state) !== state) continue;
        if (role !== undefined && norm(w.role) !== role) continue;
      }
      if (skip > 0) {
        skip--;
        continue;
      }
      out.push(w);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** A candidate id guaranteed not to be in the roster: `W-(maxId + 1 + |seed| % 1000)`. */
  phantomId(seed: number): string {
    const n = Math.abs(Math.trunc(seed)) || 0;
    return `${CANDIDATE_ID_PREFIX}${this._maxId + 1 + (n % 1000)}`;
  }

  /**
   * A deterministic (city, state, role) with at least 5 active workers, chosen by `seed`. Falls
   * back to the best-staffed combination, or a fixed contract when the roster is empty.
   */
  sampleContract(seed: number): RosterContract {
    this._contracts ??= this._buildContracts();
    const n = Math.abs(Math.trunc(seed)) || 0;
    const picked = this._contracts[n % Math.max(1, this._contracts.length)];
    return picked === undefined ? { ...FALLBACK_CONTRACT } : { ...picked };
  }

  private _buildContracts(): RosterContract[] {
    const keys = [...this._byGroup.keys()].sort();
    const rich: RosterContract[] = [];
    let best: RosterContract | undefined;
    let bestActive = 0;
    for (const key of keys) {
      const list = this._byGroup.get(key) ?? EMPTY_WORKERS;
      const first = list[0];
      if (first === undefined) continue;
      const active = list.reduce((n, w) => (isActive(w) ? n + 1 : n), 0);
      const contract = { city: first.city, state: first.state, role: first.role };
      if (active >= MIN_CONTRACT_WORKERS) rich.push(contract);
      if (active > bestActive) {
        best = contract;
        bestActive = active;
      }
    }
    if (rich.length > 0) return rich;
    return best === undefined ? [] : [best];
  }
}

const EMPTY_WORKERS: readonly Worker[] = Object.freeze([]);

/** Index by normalised (city, state, role); keeps the input (worker_id) order inside each list. */
function groupWorkers(workers: readonly Worker[]): Map<string, Worker[]> {
  const byGroup = new Map<string, Worker[]>();
  for (const w of workers) {
    const key = groupKey(w.city, w.state, w.role);
    const list = byGroup.get(key);
    if (list === undefined) byGroup.set(key, [w]);
    else list.push(w);
  }
  return byGroup;
}

/** Reads and normalises a roster file into workers sorted by worker_id. Throws on any DuckDB error. */
async function readRoster(path: string): Promise<LoadedRows> {
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

async function readWithConnection(c: DuckDBConnection, path: string): Promise<LoadedRows> {
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
    const group = groups[gid] ?? FALLBACK_CONTRACT;
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
