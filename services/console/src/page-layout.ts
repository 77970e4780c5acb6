import { isSessionAlarm } from '@lakehouse/session-log';
import { html } from './html.js';
import type { SafeHtml } from './html.js';
import { sessionQueryString } from './query-params.js';
import type { SessionPageQuery, SortKey } from './session-filters.js';
import type { SessionListRow } from './session-list.js';
import type { SessionStoreStatus } from './session-store.js';

/** What every page shows in its header. */
export interface PageContext {
  readonly status: SessionStoreStatus;
  readonly rows: number;
  readonly traces: string;
}

// CSS classes come from these fixed maps, never from data.
const VERDICT_CLASS: Readonly<Record<string, string>> = {
  accepted: 'ok',
  max_iter_exhausted: 'warn',
  infra_error: 'err',
  validation_failed: 'warn',
  no_json: 'warn',
};
const LEVEL_CLASS: Readonly<Record<string, string>> = {
  DEFAULT: 'level-default',
  DEBUG: 'level-default',
  WARNING: 'level-warning',
  ERROR: 'level-error',
};

// Own keys only: a verdict or level named `constructor` must not pick up Object's members.
const classFor = (map: Readonly<Record<string, string>>, key: string, fallback: string): string =>
  Object.hasOwn(map, key) ? (map[key] ?? fallback) : fallback;
/** The CSS class of an observation level. */
export const levelClass = (level: string): string => classFor(LEVEL_CLASS, level, 'level-default');

/** A count for people: `1,234`, or `–` when unknown. */
export const formatNumber = (n: number | null | undefined): string =>
  typeof n === 'number' ? n.toLocaleString('en-US') : '–';

/** A duration for people: `35 ms`, `<1 ms`, `1.20 s`, or `–`. */
export function formatDuration(ms: number | null | undefined): string {
  if (typeof ms !== 'number') return '–';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms > 0 && ms < 1) return '<1 ms';
  return `${Math.round(ms)} ms`;
}

/** A verdict as a badge coloured by a fixed map. */
export function verdictBadge(verdict: string | null | undefined): SafeHtml {
  const text = verdict ?? '–';
  return html`<span class="badge ${classFor(VERDICT_CLASS, text, 'other')}">${text}</span>`;
}

/** `grounded_in_roster`, an alarm row's `false` in red. */
export function groundedCell(row: SessionListRow): SafeHtml {
  if (row.grounded === null) return html`<span class="muted">null</span>`;
  if (row.grounded) return html`true`;
  return isSessionAlarm({ ...row, grounded_in_roster: row.grounded })
    ? html`<span class="badge err" title="accepted fill not grounded in the roster">false</span>`
    : html`false`;
}

/** Link to one session's page. */
const sessionHref = (sessionId: string): string =>
  `/sessions/${encodeURIComponent(wellFormed(sessionId))}`;

// encodeURIComponent throws on a lone surrogate; such an id links as U+FFFD instead.
const wellFormed = (text: string): string =>
  text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

/** The page around `body`: header with the log's status, navigation, scripts. */
export function layout(
  title: string,
  active: string,
  ctx: PageContext,
  body: SafeHtml,
  scripts: SafeHtml = html``,
): string {
  const s = ctx.status;
  const bad = s.badLines;
  const loading =
    s.state === 'tail' || s.state === 'bulk'
      ? html` · <span class="badge warn" id="indexing">indexing older sessions…</span>`
      : '';
  const problem =
    s.state === 'error'
      ? html` · <span class="badge err">${s.error ?? 'error'}</span>`
      : s.state === 'missing'
        ? html` · <span class="badge warn">no session log yet</span>`
        : '';
  const nav = (href: string, label: string, key: string): SafeHtml =>
    html`<a href="${href}"${key === active ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · lakehouse console</title>
<link rel="stylesheet" href="/assets/console.css">
</head>
<body>
<header>
  <strong class="brand">lakehouse console</strong>
  <nav>${nav('/', 'Overview', 'overview')} ${nav('/sessions', 'Sessions', 'sessions')}</nav>
  <p class="status" id="status">session log <code>${s.file}</code> · ${formatNumber(ctx.rows)} sessions${bad > 0 ? html` · <span class="badge warn">${formatNumber(bad)} bad line${bad === 1 ? '' : 's'}</span>` : ''}${s.oversizeLines > 0 ? html` · ${formatNumber(s.oversizeLines)} over-long line(s) skipped` : ''}${loading}${problem} · trees from ${ctx.traces} · read-only</p>
</header>
<main>
${body}
</main>
${scripts}
</body>
</html>
`.value;
}

function sortHeader(query: SessionPageQuery | undefined, key: SortKey, label: string): SafeHtml {
  if (query === undefined) return html`<th>${label}</th>`;
  const active = query.sort === key;
  const dir = active && query.dir === 'desc' ? 'asc' : 'desc';
  const href = `/sessions${sessionQueryString({ ...query, sort: key, dir, page: 1 })}`;
  const mark = active ? (query.dir === 'desc' ? ' ▼' : ' ▲') : '';
  return html`<th${active ? html` aria-sort="${query.dir === 'desc' ? 'descending' : 'ascending'}"` : ''}><a href="${href}">${label}${mark}</a></th>`;
}

/** The sessions table; sortable headers when `query` is given. */
export function sessionTable(rows: readonly SessionListRow[], query?: SessionPageQuery): SafeHtml {
  if (rows.length === 0) return html`<p class="empty">No sessions match.</p>`;
  const body = rows.map(
    (r) => html`<tr data-session="${r.session_id}">
  <td class="time">${r.timestamp ?? '–'}</td>
  <td><a class="session-link" href="${sessionHref(r.session_id)}"><code>${r.session_id}</code></a></td>
  <td>${r.kind ?? '–'}</td>
  <td class="model">${r.model ?? '–'}</td>
  <td>${r.provider ?? '–'}</td>
  <td>${verdictBadge(r.final_verdict)}</td>
  <td class="num">${formatNumber(r.iterations)}${r.max_iterations !== null ? html`<span class="muted">/${formatNumber(r.max_iterations)}</span>` : ''}</td>
  <td>${groundedCell(r)}</td>
  <td class="num">${formatDuration(r.duration_ms)}</td>
  <td class="error-text">${r.last_error ?? ''}</td>
</tr>`,
  );
  return html`<table class="sessions">
<thead><tr>${sortHeader(query, 'time', 'time (UTC)')}<th>session</th>${sortHeader(query, 'kind', 'kind')}${sortHeader(query, 'model', 'model')}${sortHeader(query, 'provider', 'provider')}${sortHeader(query, 'verdict', 'verdict')}${sortHeader(query, 'iterations', 'iterations')}${sortHeader(query, 'grounded', 'grounded')}${sortHeader(query, 'duration', 'duration')}<th>last error</th></tr></thead>
<tbody>
${body}
</tbody>
</table>`;
}
