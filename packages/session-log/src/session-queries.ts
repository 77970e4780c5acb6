import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { SESSION_RECORD_SCHEMA } from './session-record.js';

/** A result row with plain JSON values (BIGINT as number, JSON columns as text). */
export type SessionQueryRow = Record<string, unknown>;

/**
 * What the log's lines held besides readable rows. None of them is ever skipped silently: the
 * report prints them, and the alarm cannot say "OK" past them.
 */
export interface SessionLogLines {
  /** Lines that are `session.iterate.v1` rows. */
  rows: number;
  /** Lines that are not JSON rows of the expected shape: torn writes, garbage, wrong types. */
  unreadable: number;
  /** Valid JSON rows of another schema (another producer's records). */
  otherSchema: number;
  /** Lines longer than {@link MAX_LINE_BYTES}, which were not read at all. */
  oversized: number;
}

/**
 * DuckDB's `maximum_object_size` (bytes). DuckDB itself reads lines up to about twice this; when
 * a longer line stops it, the files are re-read leaving out every line over this size, each
 * counted as oversized. Rows are capped far below it (see the README's row caps).
 */
export const MAX_LINE_BYTES = 32 * 1024 * 1024;

/** The report sections over one or more session logs. */
export interface SessionReport {
  lines: SessionLogLines;
  totals: SessionQueryRow;
  /** Rows per producer (`daemon`): the log is one stream from every runtime writing it. */
  daemons: SessionQueryRow[];
  verdictMix: SessionQueryRow[];
  attempts: SessionQueryRow[];
  durations: SessionQueryRow[];
  topValidationErrors: SessionQueryRow[];
}

/** Thrown when the glob matches no file, or a path is not a regular file; the CLI exits 2. */
export class SessionLogNotFoundError extends Error {
  override readonly name = 'SessionLogNotFoundError';
}

/**
 * A row's keys and the DuckDB type every reader gives each. Explicit columns: every row reads
 * whatever key shows up first after DuckDB's sample, and rows of other shapes become NULLs
 * (ignore_errors) that the schema filter removes.
 */
export const SESSION_COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['schema', 'VARCHAR'],
  ['session_id', 'VARCHAR'],
  ['timestamp', 'VARCHAR'],
  ['daemon', 'VARCHAR'],
  ['kind', 'VARCHAR'],
  ['model', 'VARCHAR'],
  ['provider', 'VARCHAR'],
  ['prompt', 'VARCHAR'],
  ['iterations', 'BIGINT'],
  ['max_iterations', 'BIGINT'],
  ['final_verdict', 'VARCHAR'],
  ['attempts', 'STRUCT(iteration BIGINT, verdict_kind VARCHAR, error VARCHAR, span_id VARCHAR)[]'],
  ['artifact', 'JSON'],
  ['grounded_in_roster', 'BOOLEAN'],
  ['duration_ms', 'BIGINT'],
];
const COLUMNS = `{${SESSION_COLUMNS.map(([name, type]) => `${name}:'${type}'`).join(',')}}`;

/** The alarm's rule in SQL over a row's columns: an accepted fill not grounded in the roster. */
export const SESSION_ALARM_SQL =
  "kind = 'fill' AND final_verdict = 'accepted' AND grounded_in_roster = false";

/** {@link SESSION_ALARM_SQL} for one row's values. Pure. */
export function isSessionAlarm(row: {
  readonly kind: unknown;
  readonly final_verdict: unknown;
  readonly grounded_in_roster: unknown;
}): boolean {
  return (
    row.kind === 'fill' && row.final_verdict === 'accepted' && row.grounded_in_roster === false
  );
}

function quote(text: string): string {
  return "'" + text.replace(/'/g, "''") + "'";
}

/**
 * SQL of the views over `glob` (one path or a DuckDB glob of several files): `session_lines`,
 * every non-empty line (unreadable ones are all-NULL rows), and `sessions`, the rows of our
 * schema. Empty lines are skipped (a writer may start a row on a fresh line).
 */
export function sessionsViewSql(glob: string): string {
  return (
    `CREATE OR REPLACE VIEW session_lines AS SELECT * FROM read_json_auto(${quote(glob)}, ` +
    `format='nd', columns=${COLUMNS}, ignore_errors=true, maximum_object_size=${MAX_LINE_BYTES}); ` +
    `CREATE OR REPLACE VIEW sessions AS SELECT * FROM session_lines ` +
    `WHERE schema = ${quote(SESSION_RECORD_SCHEMA)}`
  );
}

// Counts of one pass over session_lines (or a table made from it), as SQL select items.
const LINE_COUNTS =
  `count(*) FILTER (schema = ${quote(SESSION_RECORD_SCHEMA)}) AS rows, ` +
  `count(*) FILTER (schema IS NULL) AS unreadable, ` +
  `count(*) FILTER (schema <> ${quote(SESSION_RECORD_SCHEMA)}) AS other_schema`;

function lineCounts(row: SessionQueryRow | undefined, oversized: number): SessionLogLines {
  return {
    rows: Number(row?.['rows'] ?? 0),
    unreadable: Number(row?.['unreadable'] ?? 0),
    otherSchema: Number(row?.['other_schema'] ?? 0),
    oversized,
  };
}

function plain(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[key] = plain(inner);
    return out;
  }
  return value;
}

async function query(connection: DuckDBConnection, sql: string): Promise<SessionQueryRow[]> {
  const reader = await connection.runAndReadAll(sql);
  return reader.getRowObjectsJS().map((row) => plain(row) as SessionQueryRow);
}

const GLOB_CHARS = /[*?[{]/;

// DuckDB's error for a line past maximum_object_size; it fails the whole read, even with ignore_errors.
const OVERSIZED = /maximum_object_size/i;

async function withSessions<T>(
  glob: string,
  fn: (connection: DuckDBConnection, oversized: number) => Promise<T>,
): Promise<T> {
  if (!GLOB_CHARS.test(glob)) {
    if (!existsSync(glob)) throw new SessionLogNotFoundError(`session log not found: ${glob}`);
    // A FIFO would block the reader and a directory is no log: one clear message instead.
    const info = statSync(glob);
    if (!info.isFile()) {
      throw new SessionLogNotFoundError(
        `${glob} is ${info.isDirectory() ? 'a directory' : info.isFIFO() ? 'a FIFO' : 'not a regular file'}, not a session log`,
      );
    }
  }
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  let sanitized: string | undefined;
  try {
    try {
      await connection.run(sessionsViewSql(glob));
      // Binding the view does not touch files: resolve the glob here, without reading the
      // files (a count over the view would parse the whole log once more).
      if (GLOB_CHARS.test(glob)) {
        const [found] = await query(
          connection,
          `SELECT count(*) AS files FROM glob(${quote(glob)})`,
        );
        if (Number(found?.['files'] ?? 0) === 0) {
          throw new SessionLogNotFoundError(`no session log matches ${glob}`);
        }
      }
    } catch (error) {
      if (/No files found/i.test(String(error))) {
        throw new SessionLogNotFoundError(`no session log matches ${glob}`);
      }
      throw error;
    }
    try {
      return await fn(connection, 0);
    } catch (error) {
      if (!OVERSIZED.test(String(error))) throw error;
    }
    // Rare path: a line too long to read. Copy the files without such lines (counting them)
    // and query the copies.
    const files = (
      await query(connection, `SELECT file FROM glob(${quote(glob)}) ORDER BY file`)
    ).map((r) => String(r['file']));
    sanitized = mkdtempSync(join(tmpdir(), 'lakehouse-sessions-'));
    let oversized = 0;
    for (const [i, file] of files.entries()) {
      oversized += await copyWithoutLongLines(file, join(sanitized, `${i}-${basename(file)}`));
    }
    await connection.run(sessionsViewSql(join(sanitized, '*')));
    return await fn(connection, oversized);
  } finally {
    connection.closeSync();
    instance.closeSync();
    if (sanitized !== undefined) rmSync(sanitized, { recursive: true, force: true });
  }
}

// Streams `from` into `to`, leaving out lines longer than MAX_LINE_BYTES; memory stays at one
// chunk plus one line. Returns how many lines were left out.
async function copyWithoutLongLines(from: string, to: string): Promise<number> {
  const out = await open(to, 'w');
  let dropped = 0;
  let line: Buffer[] = []; // the current line's bytes so far
  let lineBytes = 0;
  let skipping = false; // the current line is already too long
  let batch: Buffer[] = [];
  let batchBytes = 0;
  const emit = async (parts: Buffer[], bytes: number): Promise<void> => {
    batch.push(...parts);
    batchBytes += bytes;
    if (batchBytes >= 1 << 20) {
      await out.write(Buffer.concat(batch));
      batch = [];
      batchBytes = 0;
    }
  };
  try {
    for await (const chunk of createReadStream(from) as AsyncIterable<Buffer>) {
      let start = 0;
      for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
        const piece = chunk.subarray(start, nl + 1);
        if (skipping || lineBytes + piece.length - 1 > MAX_LINE_BYTES) dropped += 1;
        else await emit([...line, Buffer.from(piece)], lineBytes + piece.length);
        line = [];
        lineBytes = 0;
        skipping = false;
        start = nl + 1;
      }
      const rest = chunk.subarray(start);
      if (skipping || rest.length === 0) continue;
      if (lineBytes + rest.length > MAX_LINE_BYTES) {
        skipping = true;
        line = [];
        lineBytes = 0;
      } else {
        line.push(Buffer.from(rest));
        lineBytes += rest.length;
      }
    }
    if (skipping) dropped += 1;
    else await emit(line, lineBytes);
    if (batchBytes > 0) await out.write(Buffer.concat(batch));
  } finally {
    await out.close();
  }
  return dropped;
}

/**
 * Runs the report (verdict mix, attempts distribution, duration percentiles, top validation
 * errors) over `glob`. Throws SessionLogNotFoundError when no file matches.
 */
export function runSessionReport(glob: string, topErrors = 10): Promise<SessionReport> {
  return withSessions(glob, async (c, oversized) => {
    // Parse the log once: the sections below read this table, not the JSON files.
    await c.run(
      `CREATE OR REPLACE TEMP TABLE report_lines AS
       SELECT schema, session_id, timestamp, daemon, kind, model, provider, final_verdict,
              iterations, duration_ms,
              list_transform(list_filter(attempts, a -> a.verdict_kind = 'validation_failed'),
                             a -> a.error) AS validation_errors
       FROM session_lines;
       CREATE OR REPLACE TEMP VIEW report_sessions AS
       SELECT * FROM report_lines WHERE schema = ${quote(SESSION_RECORD_SCHEMA)}`,
    );
    const [counts] = await query(c, `SELECT ${LINE_COUNTS} FROM report_lines`);
    const daemons = await query(
      c,
      `SELECT daemon, count(*) AS sessions, count(*) FILTER (final_verdict = 'accepted') AS accepted,
              min(timestamp) AS first_timestamp, max(timestamp) AS last_timestamp
       FROM report_sessions GROUP BY daemon ORDER BY sessions DESC, daemon`,
    );
    const [totals] = await query(
      c,
      `SELECT count(*) AS sessions,
              count(*) FILTER (final_verdict = 'accepted') AS accepted,
              min(timestamp) AS first_timestamp, max(timestamp) AS last_timestamp
       FROM report_sessions`,
    );
    const verdictMix = await query(
      c,
      `SELECT kind, model, provider, count(*) AS sessions,
              count(*) FILTER (final_verdict = 'accepted') AS accepted,
              count(*) FILTER (final_verdict = 'max_iter_exhausted') AS max_iter_exhausted,
              count(*) FILTER (final_verdict = 'infra_error') AS infra_error,
              round(100.0 * count(*) FILTER (final_verdict = 'accepted') / count(*), 1) AS accepted_pct
       FROM report_sessions GROUP BY ALL ORDER BY sessions DESC, kind, model, provider`,
    );
    const attempts = await query(
      c,
      `SELECT iterations, count(*) AS sessions,
              round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS pct
       FROM report_sessions GROUP BY iterations ORDER BY iterations`,
    );
    const durations = await query(
      c,
      `SELECT kind, sessions, p50_ms, p95_ms, max_ms FROM (
         SELECT 0 AS o, kind, count(*) AS sessions,
                round(quantile_cont(duration_ms, 0.5), 1) AS p50_ms,
                round(quantile_cont(duration_ms, 0.95), 1) AS p95_ms, max(duration_ms) AS max_ms
         FROM report_sessions GROUP BY kind
         UNION ALL
         SELECT 1, '(all)', count(*), round(quantile_cont(duration_ms, 0.5), 1),
                round(quantile_cont(duration_ms, 0.95), 1), max(duration_ms)
         FROM report_sessions)
       ORDER BY o, kind`,
    );
    const topValidationErrors = await query(
      c,
      `SELECT e AS error, count(*) AS attempts, count(DISTINCT session_id) AS sessions
       FROM (SELECT session_id, unnest(validation_errors) AS e FROM report_sessions)
       GROUP BY e ORDER BY attempts DESC, error LIMIT ${Math.max(1, Math.floor(topErrors))}`,
    );
    return {
      lines: lineCounts(counts, oversized),
      totals: totals ?? {},
      daemons,
      verdictMix,
      attempts,
      durations,
      topValidationErrors,
    };
  });
}

/** The alarm's answer: the offending rows, and what it could not read. */
export interface SessionAlarmCheck {
  rows: SessionQueryRow[];
  lines: SessionLogLines;
}

/**
 * The alarm query: accepted `fill` rows with grounded_in_roster = false (must always be
 * empty), with the line counts of the same single pass over the files, so a caller can tell
 * "none" from "could not read everything". Throws SessionLogNotFoundError when no file matches.
 */
export function checkSessionAlarm(glob: string): Promise<SessionAlarmCheck> {
  return withSessions(glob, async (c, oversized) => {
    const [result] = await query(
      c,
      `SELECT ${LINE_COUNTS},
              list(struct_pack(session_id, timestamp, daemon, model, provider, iterations,
                               duration_ms, artifact) ORDER BY timestamp, session_id)
                FILTER (schema = ${quote(SESSION_RECORD_SCHEMA)} AND ${SESSION_ALARM_SQL}) AS alarm
       FROM session_lines`,
    );
    const rows = Array.isArray(result?.['alarm']) ? (result['alarm'] as SessionQueryRow[]) : [];
    return { rows, lines: lineCounts(result, oversized) };
  });
}

/** The offending rows of {@link checkSessionAlarm} alone. */
export async function runSessionAlarm(glob: string): Promise<SessionQueryRow[]> {
  return (await checkSessionAlarm(glob)).rows;
}

/** Runs arbitrary SQL with the view `sessions` defined over `glob`. Throws on SQL errors. */
export function runSessionSql(glob: string, sql: string): Promise<SessionQueryRow[]> {
  // `session_lines` (every line, unreadable ones all-NULL) is there too.
  return withSessions(glob, (c) => query(c, sql));
}
