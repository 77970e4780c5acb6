import { VARCHAR } from '@duckdb/node-api';
import type { DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { SESSION_ALARM_SQL } from '@lakehouse/session-log';
import type { FinalVerdict } from '@lakehouse/session-log';

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
const DEFAULT_PAGE_SIZE = 50;
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
