import { BIGINT, VARCHAR } from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { FINAL_VERDICTS, SESSION_ALARM_SQL } from '@lakehouse/session-log';
import type { FinalVerdict } from '@lakehouse/session-log';
import { visible } from './html.js';

/** Client-side column names the table can sort by, mapped to fixed SQL (never client text). */
export const SORT_COLUMNS = {
  time: 'ts',
  kind: 'kind',
  model: 'model',
  provider: 'provider',
  verdict: 'final_verdict',
  iterations: 'iterations',
  grounded: 'grounded_in_roster',
  duration: 'duration_ms',
} as const;
export type SortKey = keyof typeof SORT_COLUMNS;

export const PAGE_SIZES = [25, 50, 100, 200] as const;
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
/** Longest filter value accepted; longer is a 400 (no model or session id is that long). */
export const MAX_FILTER_LENGTH = 1000;

export interface SessionFilters {
  readonly kind?: string;
  readonly model?: string;
  readonly provider?: string;
  readonly verdict?: FinalVerdict;
  readonly grounded?: 'true' | 'false' | 'null';
  /** Only sessions with at least one "not in roster" rejection. */
  readonly phantom?: boolean;
  /** Only the alarm's rows: accepted fills not grounded in the roster. */
  readonly alarm?: boolean;
  /** ISO 8601 bounds on the row timestamp: since inclusive, until exclusive. */
  readonly since?: string;
  readonly until?: string;
  /** A session id prefix. */
  readonly session?: string;
}

export interface SessionPageQuery {
  readonly filters: SessionFilters;
  readonly sort: SortKey;
  readonly dir: 'asc' | 'desc';
  /** 1-based. */
  readonly page: number;
  readonly pageSize: number;
}

export const DEFAULT_PAGE_QUERY: SessionPageQuery = {
  filters: {},
  sort: 'time',
  dir: 'desc',
  page: 1,
  pageSize: DEFAULT_PAGE_SIZE,
};

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

// Fixed SQL per filter; values travel only as bound parameters.
const FILTER_SQL: Record<keyof SessionFilters, string> = {
  kind: 'kind = $kind',
  model: 'model = $model',
  provider: 'provider = $provider',
  verdict: 'final_verdict = $verdict',
  grounded: '', // one of three fixed clauses below
  phantom: 'phantoms > 0',
  alarm: SESSION_ALARM_SQL,
  since: 'ts >= CAST($since AS TIMESTAMPTZ)',
  until: 'ts < CAST($until AS TIMESTAMPTZ)',
  session: 'starts_with(session_id, $session)',
};
const GROUNDED_SQL = {
  true: 'grounded_in_roster = true',
  false: 'grounded_in_roster = false',
  null: 'grounded_in_roster IS NULL',
} as const;

interface Where {
  readonly sql: string;
  readonly values: Record<string, DuckDBValue>;
  readonly types: Record<string, DuckDBType>;
}

/** The WHERE clause of `filters`: fixed fragments joined with AND, every value a parameter. */
export function whereClause(filters: SessionFilters): Where {
  const clauses: string[] = [];
  const values: Record<string, DuckDBValue> = {};
  const types: Record<string, DuckDBType> = {};
  for (const key of [
    'kind',
    'model',
    'provider',
    'verdict',
    'since',
    'until',
    'session',
  ] as const) {
    const value = filters[key];
    if (value === undefined) continue;
    clauses.push(FILTER_SQL[key]);
    values[key] = value;
    types[key] = VARCHAR;
  }
  if (filters.grounded !== undefined) clauses.push(GROUNDED_SQL[filters.grounded]);
  if (filters.phantom === true) clauses.push(FILTER_SQL.phantom);
  if (filters.alarm === true) clauses.push(FILTER_SQL.alarm);
  return { sql: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', values, types };
}

// Clips a text column to `n` characters with an ellipsis.
const clip = (column: string, n: number): string =>
  `CASE WHEN length(${column}) > ${n} THEN left(${column}, ${n - 1}) || '…' ELSE ${column} END AS ${column}`;

const LIST_COLUMNS = [
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
export function plain(value: unknown): unknown {
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

async function rows<T>(
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

/** Every row that carries `sessionId` (a reused trace id can give several), oldest first. */
export function sessionRows(
  connection: DuckDBConnection,
  sessionId: string,
  limit = 20,
): Promise<SessionListRow[]> {
  return rows<SessionListRow>(
    connection,
    `SELECT ${LIST_COLUMNS} FROM sessions WHERE session_id = $id ORDER BY seq LIMIT $limit`,
    { id: sessionId, limit },
    { id: VARCHAR, limit: BIGINT },
  );
}

export interface VerdictCounts {
  readonly accepted: number;
  readonly max_iter_exhausted: number;
  readonly infra_error: number;
  readonly other: number;
}

/** One model's (or `(other)`'s) numbers on the overview. */
export interface ModelOverview {
  /** The chart label: the model name made visible, clipped and unique. */
  readonly model: string;
  readonly verdicts: VerdictCounts;
  /** Fill sessions, and those with a phantom ("not in roster") rejection. */
  readonly fills: number;
  readonly phantom: number;
  /** Per bucket, the share of fill sessions with a phantom rejection (null: no fills). */
  readonly phantomRateOverTime: Array<number | null>;
}

/**
 * The overview's numbers. Everything per model or per verdict is an array of records, never an
 * object keyed by a name from the log (a model called `__proto__` would vanish from it).
 */
export interface Overview {
  readonly totals: VerdictCounts & {
    readonly sessions: number;
    readonly alarm: number;
    readonly phantom_sessions: number;
    readonly first: string | null;
    readonly last: string | null;
  };
  /** The newest alarm rows (must be none). */
  readonly alarmRows: SessionListRow[];
  /** Bucket width in seconds and the buckets' start times (ISO). */
  readonly bucketSeconds: number;
  readonly buckets: string[];
  /** Sessions per verdict per bucket (aligned with `buckets`). */
  readonly verdictsOverTime: Array<{ readonly verdict: FinalVerdict; readonly sessions: number[] }>;
  /** Top models by sessions, then `(other)` when there are more. */
  readonly models: ModelOverview[];
  /** Sessions by attempts spent. */
  readonly attemptsPerSession: Array<{ attempts: number | null; sessions: number }>;
}

export const TOP_MODELS = 8;
export const OTHER_MODEL = '(other)';
const MAX_BUCKETS = 60;
const BUCKET_WIDTHS = [1, 5, 15, 60, 300, 900, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400];

/** The smallest listed width giving at most 60 buckets over `spanSeconds` (wider if needed). */
export function bucketWidth(spanSeconds: number): number {
  const fit = BUCKET_WIDTHS.find((w) => spanSeconds / w < MAX_BUCKETS);
  return fit ?? Math.ceil(spanSeconds / (MAX_BUCKETS - 1));
}

const VERDICT_COUNTS_SQL = [
  ...FINAL_VERDICTS.map((v) => `count(*) FILTER (final_verdict = '${v}') AS ${v}`),
  `count(*) FILTER (final_verdict IS NULL OR final_verdict NOT IN (${FINAL_VERDICTS.map((v) => `'${v}'`).join(', ')})) AS other`,
].join(', ');

/** The overview's numbers: alarm, verdict mix and phantom rate by model over time, attempts. */
export async function overview(connection: DuckDBConnection): Promise<Overview> {
  const [totals] = await rows<Overview['totals']>(
    connection,
    `SELECT count(*) AS sessions, ${VERDICT_COUNTS_SQL},
       count(*) FILTER (${SESSION_ALARM_SQL}) AS alarm,
       count(*) FILTER (phantoms > 0) AS phantom_sessions,
       min(ts) AS first, max(ts) AS last
     FROM sessions`,
  );
  const alarmRows = await rows<SessionListRow>(
    connection,
    `SELECT ${LIST_COLUMNS} FROM sessions WHERE ${SESSION_ALARM_SQL} ORDER BY seq DESC LIMIT 20`,
  );
  const top = await rows<{ model: string | null; label: string }>(
    connection,
    `SELECT model, CASE WHEN length(model) > 60 THEN left(model, 59) || '…' ELSE coalesce(model, '(none)') END AS label
     FROM (SELECT model, count(*) AS n FROM sessions GROUP BY model)
     ORDER BY n DESC, model LIMIT ${TOP_MODELS + 1}`,
  );
  const moreModels = top.length > TOP_MODELS;
  const topFull = top.slice(0, TOP_MODELS);
  // Clipped labels could collide; the charts need them unique.
  const labels: string[] = [];
  for (const { label: raw } of topFull) {
    // Chart labels are canvas text, not markup, but must not hide or reorder characters either.
    const label = visible(raw);
    let unique = label;
    for (let k = 2; labels.includes(unique) || unique === OTHER_MODEL; k++)
      unique = `${label} #${k}`;
    labels.push(unique);
  }
  if (moreModels) labels.push(OTHER_MODEL);
  const modelList = `[${topFull.map((_, i) => `$m${i}`).join(', ')}]`;
  const modelValues = Object.fromEntries(topFull.map((m, i) => [`m${i}`, m.model ?? '']));
  const modelTypes = Object.fromEntries(topFull.map((_, i) => [`m${i}`, VARCHAR]));
  // The label of a row's model: its index among the top models, else the last label.
  const modelIndex = `coalesce(list_position(${modelList}::VARCHAR[], coalesce(model, '')), ${topFull.length + 1}) - 1`;

  const first = totals?.first ? Date.parse(totals.first) : NaN;
  const last = totals?.last ? Date.parse(totals.last) : NaN;
  const span = Number.isFinite(first) && Number.isFinite(last) ? (last - first) / 1000 : 0;
  const bucketSeconds = bucketWidth(span);
  const bucketed = await rows<{
    b: string;
    mi: number;
    verdict: string | null;
    n: number;
    fills: number;
    phantom: number;
  }>(
    connection,
    `SELECT time_bucket(to_seconds($w), ts) AS b, ${modelIndex} AS mi, final_verdict AS verdict,
       count(*) AS n, count(*) FILTER (kind = 'fill') AS fills,
       count(*) FILTER (kind = 'fill' AND phantoms > 0) AS phantom
     FROM sessions WHERE ts IS NOT NULL GROUP BY ALL ORDER BY b`,
    { w: bucketSeconds, ...modelValues },
    { w: BIGINT, ...modelTypes },
  );
  const buckets = [...new Set(bucketed.map((r) => r.b))].sort();
  const bucketIndex = new Map(buckets.map((b, i) => [b, i]));
  const verdictsOverTime = FINAL_VERDICTS.map((verdict) => ({
    verdict,
    sessions: buckets.map(() => 0),
  }));
  const perModel = labels.map((model) => ({
    model,
    verdicts: { accepted: 0, max_iter_exhausted: 0, infra_error: 0, other: 0 },
    fills: 0,
    phantom: 0,
    fillsPerBucket: buckets.map(() => 0),
    phantomPerBucket: buckets.map(() => 0),
  }));
  for (const r of bucketed) {
    const b = bucketIndex.get(r.b) ?? 0;
    const m = perModel[Math.min(r.mi, perModel.length - 1)];
    if (m === undefined) continue;
    const v = FINAL_VERDICTS.indexOf(r.verdict as FinalVerdict);
    const series = verdictsOverTime[v]?.sessions;
    if (series !== undefined) series[b] = (series[b] ?? 0) + r.n;
    const verdict = v >= 0 ? (FINAL_VERDICTS[v] as FinalVerdict) : 'other';
    m.verdicts[verdict] += r.n;
    m.fills += r.fills;
    m.phantom += r.phantom;
    m.fillsPerBucket[b] = (m.fillsPerBucket[b] ?? 0) + r.fills;
    m.phantomPerBucket[b] = (m.phantomPerBucket[b] ?? 0) + r.phantom;
  }
  const models: ModelOverview[] = perModel.map(({ fillsPerBucket, phantomPerBucket, ...m }) => ({
    ...m,
    phantomRateOverTime: fillsPerBucket.map((f, b) =>
      f > 0 ? (phantomPerBucket[b] ?? 0) / f : null,
    ),
  }));
  const attemptsPerSession = await rows<{ attempts: number | null; sessions: number }>(
    connection,
    `SELECT iterations AS attempts, count(*) AS sessions FROM sessions
     GROUP BY iterations ORDER BY iterations NULLS LAST LIMIT 50`,
  );
  return {
    totals: totals ?? {
      sessions: 0,
      accepted: 0,
      max_iter_exhausted: 0,
      infra_error: 0,
      other: 0,
      alarm: 0,
      phantom_sessions: 0,
      first: null,
      last: null,
    },
    alarmRows,
    bucketSeconds,
    buckets,
    verdictsOverTime,
    models,
    attemptsPerSession,
  };
}
