import { existsSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { SESSION_RECORD_SCHEMA } from './session-record.js';

/** A result row with plain JSON values (BIGINT as number, JSON columns as text). */
export type SessionQueryRow = Record<string, unknown>;

/** The four report sections over one or more session logs. */
export interface SessionReport {
  totals: SessionQueryRow;
  verdictMix: SessionQueryRow[];
  attempts: SessionQueryRow[];
  durations: SessionQueryRow[];
  topValidationErrors: SessionQueryRow[];
}

/** Thrown when the glob matches no file; the CLI prints its message and exits 1. */
export class SessionLogNotFoundError extends Error {
  override readonly name = 'SessionLogNotFoundError';
}

// Explicit columns: every row reads whatever key shows up first after DuckDB's sample, and
// rows of other shapes become NULLs (ignore_errors) that the schema filter removes.
const COLUMNS =
  "{schema:'VARCHAR',session_id:'VARCHAR',timestamp:'VARCHAR',daemon:'VARCHAR',kind:'VARCHAR'," +
  "model:'VARCHAR',provider:'VARCHAR',prompt:'VARCHAR',iterations:'BIGINT',max_iterations:'BIGINT'," +
  "final_verdict:'VARCHAR'," +
  "attempts:'STRUCT(iteration BIGINT, verdict_kind VARCHAR, error VARCHAR, span_id VARCHAR)[]'," +
  "artifact:'JSON',grounded_in_roster:'BOOLEAN',duration_ms:'BIGINT'}";

function quote(text: string): string {
  return "'" + text.replace(/'/g, "''") + "'";
}

/** SQL of the `sessions` view over `glob` (one path or a DuckDB glob of several files). */
export function sessionsViewSql(glob: string): string {
  return (
    `CREATE OR REPLACE VIEW sessions AS SELECT * FROM read_json_auto(${quote(glob)}, ` +
    `format='nd', columns=${COLUMNS}, ignore_errors=true) ` +
    `WHERE schema = ${quote(SESSION_RECORD_SCHEMA)}`
  );
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

async function withSessions<T>(
  glob: string,
  fn: (connection: DuckDBConnection) => Promise<T>,
): Promise<T> {
  if (!GLOB_CHARS.test(glob) && !existsSync(glob)) {
    throw new SessionLogNotFoundError(`session log not found: ${glob}`);
  }
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
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
    return await fn(connection);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * Runs the report (verdict mix, attempts distribution, duration percentiles, top validation
 * errors) over `glob`. Throws SessionLogNotFoundError when no file matches.
 */
export function runSessionReport(glob: string, topErrors = 10): Promise<SessionReport> {
  return withSessions(glob, async (c) => {
    // Parse the log once: the sections below read this table, not the JSON files.
    await c.run(
      `CREATE TEMP TABLE report_sessions AS
       SELECT session_id, timestamp, kind, model, provider, final_verdict, iterations, duration_ms,
              list_transform(list_filter(attempts, a -> a.verdict_kind = 'validation_failed'),
                             a -> a.error) AS validation_errors
       FROM sessions`,
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
    return { totals: totals ?? {}, verdictMix, attempts, durations, topValidationErrors };
  });
}

/**
 * The alarm query: accepted `fill` rows with grounded_in_roster = false (must always be
 * empty). Returns the offending rows. Throws SessionLogNotFoundError when no file matches.
 */
export function runSessionAlarm(glob: string): Promise<SessionQueryRow[]> {
  return withSessions(glob, (c) =>
    query(
      c,
      `SELECT session_id, timestamp, daemon, model, provider, iterations, duration_ms, artifact
       FROM sessions
       WHERE kind = 'fill' AND final_verdict = 'accepted' AND grounded_in_roster = false
       ORDER BY timestamp, session_id`,
    ),
  );
}

/** Runs arbitrary SQL with the view `sessions` defined over `glob`. Throws on SQL errors. */
export function runSessionSql(glob: string, sql: string): Promise<SessionQueryRow[]> {
  return withSessions(glob, (c) => query(c, sql));
}
