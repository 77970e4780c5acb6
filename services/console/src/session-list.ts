import { BIGINT, VARCHAR } from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { MAX_PAGE_SIZE, SORT_COLUMNS, whereClause } from './session-filters.js';
import type { SessionPageQuery } from './session-filters.js';

/** One table row; long strings are clipped by the query so a page stays bounded. */
export interface SessionListRow {
  readonly seq: number;
  readonly session_id: string;
  readonly timestamp: string | null;
  readonly kind: string | null;
  readonly model: string | null;
  readonly provider: string | null;
  readonly final_verdict: string | null;
  readonly iterations: number | null;
  readonly max_iterations: number | null;
  readonly grounded: boolean | null;
  readonly duration_ms: number | null;
  readonly attempts: number | null;
  readonly phantoms: number | null;
  readonly last_error: string | null;
}

export interface SessionPage {
  readonly rows: SessionListRow[];
  /** Rows matching the filters. */
  readonly total: number;
  readonly query: SessionPageQuery;
}

// Clips a text column to `n` characters with an ellipsis.
const clip = (column: string, n: number): string =>
  `CASE WHEN length(${column}) > ${n} THEN left(${column}, ${n - 1}) || '…' ELSE ${column} END AS ${column}`;

/** The table's columns as a page shows them, long strings clipped in the query. */
export const LIST_COLUMNS = [
  'seq',
  clip('session_id', 64),
  clip('timestamp', 40),
  clip('kind', 40),
  clip('model', 120),
  clip('provider', 60),
  clip('final_verdict', 40),
  'iterations',
  'max_iterations',
  'grounded_in_roster AS grounded',
  'duration_ms',
  'attempts',
  'phantoms',
  clip('last_error', 200),
].join(', ');

/** Plain JSON values: BIGINT as number (or string beyond 2^53), dates as ISO strings. */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[key] = plain(inner);
    return out;
  }
  return value;
}

/** Runs `sql` and returns its rows as plain JSON values. */
export async function rows<T>(
  connection: DuckDBConnection,
  sql: string,
  values: Record<string, DuckDBValue> = {},
  types: Record<string, DuckDBType> = {},
): Promise<T[]> {
  const reader = await connection.runAndReadAll(sql, values, types);
  return reader.getRowObjectsJS().map((row) => plain(row) as T);
}

/** One page of sessions, filtered and sorted in DuckDB. */
export async function listSessions(
  connection: DuckDBConnection,
  query: SessionPageQuery,
): Promise<SessionPage> {
  const where = whereClause(query.filters);
  const [count] = await rows<{ n: number }>(
    connection,
    `SELECT count(*) AS n FROM sessions ${where.sql}`,
    where.values,
    where.types,
  );
  const total = count?.n ?? 0;
  const pageSize = Math.min(Math.max(1, Math.floor(query.pageSize)), MAX_PAGE_SIZE);
  const lastPage = Math.max(1, Math.ceil(total / pageSize));
  const page = Math.min(Math.max(1, Math.floor(query.page)), lastPage);
  const dir = query.dir === 'asc' ? 'ASC' : 'DESC';
  const list = await rows<SessionListRow>(
    connection,
    `SELECT ${LIST_COLUMNS} FROM sessions ${where.sql}
     ORDER BY ${SORT_COLUMNS[query.sort]} ${dir} NULLS LAST, seq ${dir}
     LIMIT $limit OFFSET $offset`,
    { ...where.values, limit: pageSize, offset: (page - 1) * pageSize },
    { ...where.types, limit: BIGINT, offset: BIGINT },
  );
  return { rows: list, total, query: { ...query, page, pageSize } };
}

/**
 * The first `limit` rows that carry `sessionId` (a reused trace id can give several), oldest
 * first, and how many carry it.
 */
export async function sessionRows(
  connection: DuckDBConnection,
  sessionId: string,
  limit: number,
): Promise<{ rows: SessionListRow[]; total: number }> {
  const [count] = await rows<{ n: number }>(
    connection,
    'SELECT count(*) AS n FROM sessions WHERE session_id = $id',
    { id: sessionId },
    { id: VARCHAR },
  );
  const list = await rows<SessionListRow>(
    connection,
    `SELECT ${LIST_COLUMNS} FROM sessions WHERE session_id = $id ORDER BY seq LIMIT $limit`,
    { id: sessionId, limit },
    { id: VARCHAR, limit: BIGINT },
  );
  return { rows: list, total: count?.n ?? 0 };
}
