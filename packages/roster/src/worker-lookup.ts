import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { normalizeRosterValue as norm } from './contract.js';
import { groupKey, readRosterFile } from './roster-reader.js';
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

/** One (city, state, role) combination of the roster and its workers, in worker_id order. */
export interface WorkerGroup {
  readonly city: string;
  readonly state: string;
  readonly role: string;
  readonly workers: readonly Worker[];
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
  /** Why the lookup is not ready (with the path and the reader's error); undefined when ready. */
  readonly error: string | undefined;
  /**
   * Why the lookup is not ready, fit for anonymous clients (readiness probes): the kind of
   * problem only, never a path or a reader's message. Undefined when ready.
   */
  readonly publicError: string | undefined;
  /** Wall time of the load, in milliseconds. */
  readonly loadMs: number;

  // Sorted by ascending numeric worker_id; find() and groups() rely on this order.
  private readonly _workers: readonly Worker[];
  private readonly _byId: Map<number, Worker> | (Worker | undefined)[];
  private readonly _byGroup: Map<string, Worker[]>;
  private readonly _maxId: number;

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
    this.publicError = this.error === undefined ? undefined : publicProblem(this.error);

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
        const loaded = await readRosterFile(path);
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

  /** Every (city, state, role) combination, sorted by its normalised key. Cheap to call again. */
  groups(): WorkerGroup[] {
    const out: WorkerGroup[] = [];
    for (const key of [...this._byGroup.keys()].sort()) {
      const workers = this._byGroup.get(key) ?? EMPTY_WORKERS;
      const first = workers[0];
      if (first !== undefined) {
        out.push({ city: first.city, state: first.state, role: first.role, workers });
      }
    }
    return out;
  }
}

// The kinds of problem load() words (see its messages), without their paths and causes.
const PUBLIC_PROBLEMS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^roster file not found/, 'roster file not found'],
  [/^roster path is not a file/, 'roster path is not a file'],
  [/could not be read/, 'roster file could not be read'],
  [/has no workers$/, 'roster has no workers'],
];

function publicProblem(error: string): string {
  for (const [pattern, problem] of PUBLIC_PROBLEMS) if (pattern.test(error)) return problem;
  return 'roster not loaded';
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
