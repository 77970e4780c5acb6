import { FINAL_VERDICTS } from '@lakehouse/session-log';
import type { FinalVerdict } from '@lakehouse/session-log';
import {
  DEFAULT_PAGE_QUERY,
  MAX_FILTER_LENGTH,
  MAX_PAGE_SIZE,
  SORT_COLUMNS,
} from './session-filters.js';
import type { SessionFilters, SessionPageQuery, SortKey } from './session-filters.js';

/** A query string the console refuses; `param` names the offending parameter. */
export class QueryParamError extends Error {
  override readonly name = 'QueryParamError';
  readonly param: string;
  constructor(param: string, message: string) {
    super(message);
    this.param = param;
  }
}

const TEXT_FILTERS = ['kind', 'model', 'provider', 'session'] as const;
const KNOWN = new Set([
  ...TEXT_FILTERS,
  'verdict',
  'grounded',
  'phantom',
  'alarm',
  'since',
  'until',
  'sort',
  'dir',
  'page',
  'size',
]);
const MAX_PAGE = 10_000_000;
// A date, what a `datetime-local` input sends (no zone: UTC), or a full RFC 3339 timestamp.
const TIMESTAMP =
  /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(\.\d{1,9})?)?(Z|[+-]\d\d:\d\d)?)?$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function single(params: URLSearchParams, name: string): string | undefined {
  const all = params.getAll(name);
  if (all.length > 1) throw new QueryParamError(name, `${name} is given more than once`);
  const value = all[0];
  if (value === undefined || value === '') return undefined;
  if (value.length > MAX_FILTER_LENGTH)
    throw new QueryParamError(name, `${name} is longer than ${MAX_FILTER_LENGTH} characters`);
  return value;
}

function integer(
  params: URLSearchParams,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const value = single(params, name);
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value) || Number(value) < min || Number(value) > max)
    throw new QueryParamError(name, `${name} must be an integer from ${min} to ${max}`);
  return Number(value);
}

function flag(params: URLSearchParams, name: string): boolean | undefined {
  const value = single(params, name);
  if (value === undefined) return undefined;
  if (value === '1' || value === 'true' || value === 'on') return true;
  if (value === '0' || value === 'false') return false;
  throw new QueryParamError(name, `${name} must be 1 or 0`);
}

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

/**
 * The timestamp `text` names, written the one way DuckDB's cast reads (`YYYY-MM-DDTHH:MM:SS`,
 * fraction, `Z` or `±HH:MM`), or undefined when it is no real calendar instant (February 30th,
 * hour 24, an offset of 24 hours …). No zone means UTC, as the console shows times.
 */
function canonicalTimestamp(text: string): string | undefined {
  const m = TIMESTAMP.exec(text);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) =>
    Number(m[i] ?? 0),
  ) as [number, number, number, number, number, number];
  const days = month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  if (year < 1 || day < 1 || day > days || hour > 23 || minute > 59 || second > 59)
    return undefined;
  const zone = m[8] ?? 'Z';
  if (zone !== 'Z' && (Number(zone.slice(1, 3)) > 23 || Number(zone.slice(4)) > 59))
    return undefined;
  return `${m[1]}-${m[2]}-${m[3]}T${m[4] ?? '00'}:${m[5] ?? '00'}:${m[6] ?? '00'}${m[7] ?? ''}${zone}`;
}

function timestamp(params: URLSearchParams, name: string): string | undefined {
  const value = single(params, name);
  if (value === undefined) return undefined;
  const canonical = canonicalTimestamp(value);
  if (canonical === undefined)
    throw new QueryParamError(
      name,
      `${name} must be a real date (YYYY-MM-DD) or RFC 3339 timestamp (e.g. 2026-11-25T06:00:00Z)`,
    );
  return canonical;
}

/**
 * Parses the sessions table's query string. Unknown parameters, repeated ones, bad values and
 * over-long values throw QueryParamError naming the parameter; nothing is passed on unchecked.
 */
export function parseSessionQuery(params: URLSearchParams): SessionPageQuery {
  for (const name of params.keys()) {
    if (!KNOWN.has(name))
      throw new QueryParamError(
        name,
        `unknown parameter ${name.length > 40 ? `${name.slice(0, 40)}…` : name}`,
      );
  }
  const filters: { -readonly [K in keyof SessionFilters]: SessionFilters[K] } = {};
  for (const name of TEXT_FILTERS) {
    const value = single(params, name);
    if (value !== undefined) filters[name] = value;
  }
  const verdict = single(params, 'verdict');
  if (verdict !== undefined) {
    if (!(FINAL_VERDICTS as readonly string[]).includes(verdict))
      throw new QueryParamError('verdict', `verdict must be one of ${FINAL_VERDICTS.join(', ')}`);
    filters.verdict = verdict as FinalVerdict;
  }
  const grounded = single(params, 'grounded');
  if (grounded !== undefined) {
    if (grounded !== 'true' && grounded !== 'false' && grounded !== 'null')
      throw new QueryParamError('grounded', 'grounded must be true, false or null');
    filters.grounded = grounded;
  }
  if (flag(params, 'phantom') === true) filters.phantom = true;
  if (flag(params, 'alarm') === true) filters.alarm = true;
  const since = timestamp(params, 'since');
  if (since !== undefined) filters.since = since;
  const until = timestamp(params, 'until');
  if (until !== undefined) filters.until = until;
  const sort = single(params, 'sort') ?? DEFAULT_PAGE_QUERY.sort;
  if (!Object.hasOwn(SORT_COLUMNS, sort))
    throw new QueryParamError(
      'sort',
      `sort must be one of ${Object.keys(SORT_COLUMNS).join(', ')}`,
    );
  const dir = single(params, 'dir') ?? DEFAULT_PAGE_QUERY.dir;
  if (dir !== 'asc' && dir !== 'desc') throw new QueryParamError('dir', 'dir must be asc or desc');
  return {
    filters,
    sort: sort as SortKey,
    dir,
    page: integer(params, 'page', 1, MAX_PAGE) ?? 1,
    pageSize: integer(params, 'size', 1, MAX_PAGE_SIZE) ?? DEFAULT_PAGE_QUERY.pageSize,
  };
}

/** The query string of `query` (defaults left out), for links and forms. */
export function sessionQueryString(query: SessionPageQuery): string {
  const params = new URLSearchParams();
  const f = query.filters;
  for (const name of TEXT_FILTERS) if (f[name] !== undefined) params.set(name, f[name]);
  if (f.verdict) params.set('verdict', f.verdict);
  if (f.grounded) params.set('grounded', f.grounded);
  if (f.phantom) params.set('phantom', '1');
  if (f.alarm) params.set('alarm', '1');
  if (f.since) params.set('since', f.since);
  if (f.until) params.set('until', f.until);
  if (query.sort !== DEFAULT_PAGE_QUERY.sort) params.set('sort', query.sort);
  if (query.dir !== DEFAULT_PAGE_QUERY.dir) params.set('dir', query.dir);
  if (query.page !== 1) params.set('page', String(query.page));
  if (query.pageSize !== DEFAULT_PAGE_QUERY.pageSize) params.set('size', String(query.pageSize));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}
