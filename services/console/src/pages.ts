import type { LangfuseTraceTree, TreeObservation } from '@lakehouse/langfuse-processor';
import { html, joinHtml } from './html.js';
import type { SafeHtml } from './html.js';
import { sessionQueryString } from './query-params.js';
import { FINAL_VERDICTS, isSessionAlarm } from '@lakehouse/session-log';
import { DEFAULT_PAGE_QUERY, PAGE_SIZES } from './session-queries.js';
import type {
  Overview,
  SessionListRow,
  SessionPage,
  SessionPageQuery,
  SortKey,
} from './session-queries.js';
import type { SessionStoreStatus } from './session-store.js';
import type { TraceLookup } from './trace-source.js';

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
const levelClass = (level: string): string => classFor(LEVEL_CLASS, level, 'level-default');

const number = (n: number | null | undefined): string =>
  typeof n === 'number' ? n.toLocaleString('en-US') : '–';

function duration(ms: number | null | undefined): string {
  if (typeof ms !== 'number') return '–';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms > 0 && ms < 1) return '<1 ms';
  return `${Math.round(ms)} ms`;
}

function bucketText(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400} day`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

const clipText = (text: string, n: number): string =>
  [...text].length > n ? `${[...text].slice(0, n - 1).join('')}…` : text;

function verdictBadge(verdict: string | null | undefined): SafeHtml {
  const text = verdict ?? '–';
  return html`<span class="badge ${classFor(VERDICT_CLASS, text, 'other')}">${text}</span>`;
}

function groundedCell(row: SessionListRow): SafeHtml {
  if (row.grounded === null) return html`<span class="muted">null</span>`;
  if (row.grounded) return html`true`;
  return isSessionAlarm({ ...row, grounded_in_roster: row.grounded })
    ? html`<span class="badge err" title="accepted fill not grounded in the roster">false</span>`
    : html`false`;
}

/** Link to one session's page. */
export const sessionHref = (sessionId: string): string =>
  `/sessions/${encodeURIComponent(wellFormed(sessionId))}`;

// encodeURIComponent throws on a lone surrogate; such an id links as U+FFFD instead.
const wellFormed = (text: string): string =>
  text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

function layout(
  title: string,
  active: string,
  ctx: PageContext,
  body: SafeHtml,
  scripts: SafeHtml = html``,
): string {
  const s = ctx.status;
  const bad = Math.max(0, s.lines - ctx.rows);
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
  <p class="status" id="status">session log <code>${s.path}</code> · ${number(ctx.rows)} sessions${bad > 0 ? html` · <span class="badge warn">${number(bad)} bad line${bad === 1 ? '' : 's'}</span>` : ''}${s.oversizeLines > 0 ? html` · ${number(s.oversizeLines)} over-long line(s) skipped` : ''}${loading}${problem} · trees from ${ctx.traces} · read-only</p>
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
  <td class="num">${number(r.iterations)}${r.max_iterations !== null ? html`<span class="muted">/${number(r.max_iterations)}</span>` : ''}</td>
  <td>${groundedCell(r)}</td>
  <td class="num">${duration(r.duration_ms)}</td>
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

/** The overview: the alarm first, then totals, the charts and the newest sessions. */
export function overviewPage(
  ctx: PageContext,
  data: Overview,
  recent: readonly SessionListRow[],
): string {
  const t = data.totals;
  const alarm =
    t.alarm > 0
      ? html`<section class="alarm firing" id="alarm">
  <h1>ALARM: ${number(t.alarm)} accepted fill${t.alarm === 1 ? '' : 's'} not grounded in the roster</h1>
  <p>The validator accepted ${t.alarm === 1 ? 'a fill' : 'fills'} whose workers were not all found in the roster. This must never happen.
  <a class="alarm-all" href="/sessions?alarm=1">Show ${t.alarm === 1 ? 'it' : 'all of them'} in the sessions table</a>.</p>
  ${sessionTable(data.alarmRows)}
</section>`
      : html`<section class="alarm quiet" id="alarm"><h1>OK: no ungrounded accepted fills</h1>
  <p>Every accepted fill in the log was grounded in the roster.</p></section>`;
  const share = (n: number): string =>
    t.sessions > 0 ? `${((100 * n) / t.sessions).toFixed(1)}%` : '–';
  const card = (label: string, value: string, note: string, href: string): SafeHtml =>
    html`<a class="card" href="${href}"><span class="value">${value}</span><span class="label">${label}</span><span class="note">${note}</span></a>`;
  const body = html`${alarm}
<section class="cards">
  ${card('sessions', number(t.sessions), `${t.first ?? '–'} → ${t.last ?? '–'}`, '/sessions')}
  ${card('accepted', number(t.accepted), share(t.accepted), '/sessions?verdict=accepted')}
  ${card('max_iter_exhausted', number(t.max_iter_exhausted), share(t.max_iter_exhausted), '/sessions?verdict=max_iter_exhausted')}
  ${card('infra_error', number(t.infra_error), share(t.infra_error), '/sessions?verdict=infra_error')}
  ${card('with a phantom', number(t.phantom_sessions), 'sessions with a "not in roster" rejection', '/sessions?phantom=1')}
</section>
<section class="charts">
  <figure><figcaption>Verdict mix over time <span class="muted">(${bucketText(data.bucketSeconds)} buckets)</span></figcaption><canvas id="chart-verdicts-time" role="img" aria-label="verdict mix over time"></canvas></figure>
  <figure><figcaption>Phantom rate by model over time <span class="muted">(share of fill sessions with a "not in roster" rejection)</span></figcaption><canvas id="chart-phantom-time" role="img" aria-label="phantom rate by model over time"></canvas></figure>
  <figure><figcaption>Verdict mix by model</figcaption><canvas id="chart-verdicts-model" role="img" aria-label="verdict mix by model"></canvas></figure>
  <figure><figcaption>Attempts per session</figcaption><canvas id="chart-attempts" role="img" aria-label="attempts per session"></canvas></figure>
</section>
<section>
  <h2>Newest sessions <a class="more" href="/sessions">all sessions →</a></h2>
  ${sessionTable(recent)}
</section>`;
  const scripts = html`<script src="/assets/chart.umd.min.js"></script>
<script type="module" src="/assets/console.js"></script>`;
  return layout('Overview', 'overview', ctx, body, scripts);
}

function filterForm(query: SessionPageQuery): SafeHtml {
  const f = query.filters;
  const text = (name: 'kind' | 'model' | 'provider' | 'session', label: string): SafeHtml =>
    html`<label>${label} <input name="${name}" value="${f[name] ?? ''}" maxlength="1000"></label>`;
  const option = (value: string, current: string | undefined, label = value): SafeHtml =>
    html`<option value="${value}"${value === (current ?? '') ? html` selected` : ''}>${label}</option>`;
  return html`<form class="filters" method="get" action="/sessions" id="filters">
  <label>verdict <select name="verdict">${option('', f.verdict, 'any')}${FINAL_VERDICTS.map((v) => option(v, f.verdict))}</select></label>
  ${text('kind', 'kind')} ${text('model', 'model')} ${text('provider', 'provider')}
  <label>grounded <select name="grounded">${option('', f.grounded, 'any')}${['true', 'false', 'null'].map((v) => option(v, f.grounded))}</select></label>
  <label><input type="checkbox" name="phantom" value="1"${f.phantom ? html` checked` : ''}> phantom</label>
  <label><input type="checkbox" name="alarm" value="1"${f.alarm ? html` checked` : ''}> alarm rows</label>
  <label>since <input name="since" value="${f.since ?? ''}" placeholder="2026-11-25T06:00Z"></label>
  <label>until <input name="until" value="${f.until ?? ''}" placeholder="2026-11-26"></label>
  ${text('session', 'session id')}
  <label>rows <select name="size">${PAGE_SIZES.map((n) => option(String(n), String(query.pageSize)))}</select></label>
  ${query.sort !== DEFAULT_PAGE_QUERY.sort ? html`<input type="hidden" name="sort" value="${query.sort}">` : ''}
  ${query.dir !== DEFAULT_PAGE_QUERY.dir ? html`<input type="hidden" name="dir" value="${query.dir}">` : ''}
  <button type="submit">Filter</button> <a href="/sessions">clear</a>
</form>`;
}

/** The sessions table page: filters, the page of rows, paging links. */
export function sessionsPage(ctx: PageContext, page: SessionPage): string {
  const q = page.query;
  const last = Math.max(1, Math.ceil(page.total / q.pageSize));
  const link = (p: number, label: string, rel: string): SafeHtml =>
    p < 1 || p > last || p === q.page
      ? html`<span class="disabled">${label}</span>`
      : html`<a rel="${rel}" href="/sessions${sessionQueryString({ ...q, page: p })}">${label}</a>`;
  const from = page.total === 0 ? 0 : (q.page - 1) * q.pageSize + 1;
  const to = Math.min(page.total, q.page * q.pageSize);
  const pager = html`<nav class="pager">${link(1, '« first', 'first')} ${link(q.page - 1, '‹ previous', 'prev')}
  <span id="range">rows ${number(from)}–${number(to)} of ${number(page.total)} · page ${number(q.page)} of ${number(last)}</span>
  ${link(q.page + 1, 'next ›', 'next')} ${link(last, 'last »', 'last')}</nav>`;
  const body = html`<h1>Sessions${q.filters.alarm ? html` <span class="badge err">alarm rows</span>` : ''}</h1>
${filterForm(q)}
${pager}
${sessionTable(page.rows, q)}
${pager}`;
  return layout('Sessions', 'sessions', ctx, body);
}

/** Attempts of one raw row, with the validator's errors. */
interface RawAttempt {
  iteration?: unknown;
  verdict_kind?: unknown;
  error?: unknown;
  span_id?: unknown;
}

const asText = (v: unknown): string =>
  typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v);

function attemptsTable(raw: unknown, tree: LangfuseTraceTree | undefined): SafeHtml {
  const attempts = Array.isArray(raw) ? (raw as RawAttempt[]) : [];
  if (attempts.length === 0) return html`<p class="empty">No attempts.</p>`;
  const ids = new Set(tree?.observations.map((o) => o.id) ?? []);
  return html`<table class="attempts"><thead><tr><th>attempt</th><th>verdict</th><th>validator error</th><th>span</th></tr></thead><tbody>
${attempts.map((a) => {
  const span = asText(a.span_id);
  return html`<tr><td class="num">${asText(a.iteration)}</td><td>${verdictBadge(asText(a.verdict_kind))}</td>
<td class="error-text validator-error">${clipText(asText(a.error), 4000)}</td>
<td>${span === '' ? html`<span class="muted">–</span>` : ids.has(span) ? html`<a href="#obs-${span}"><code>${span}</code></a>` : html`<code>${span}</code>`}</td></tr>`;
})}
</tbody></table>`;
}

function observationItem(o: TreeObservation): SafeHtml {
  const tokens =
    o.usage && (o.usage['input'] !== undefined || o.usage['output'] !== undefined)
      ? html` <span class="muted">tokens ${o.usage['input'] ?? '?'}→${o.usage['output'] ?? '?'}</span>`
      : '';
  return html`<li id="obs-${o.id}" class="obs ${levelClass(o.level)}">
  <span class="obs-name">${clipText(o.name, 200)}</span>
  <span class="badge type">${clipText(o.type, 40)}</span>
  <span class="badge ${levelClass(o.level)}">${clipText(o.level, 40)}</span>
  <span class="muted">${duration(o.durationMs)}</span>${o.model !== undefined ? html` <span class="muted">model</span> ${clipText(o.model, 120)}` : ''}${tokens}
  ${o.statusMessage !== undefined && o.level !== 'DEFAULT' ? html`<div class="status-message">${clipText(o.statusMessage, 2000)}</div>` : ''}
  ${o.children.length > 0 ? html`<ul>${o.children.map(observationItem)}</ul>` : ''}
</li>`;
}

function treeView(lookup: TraceLookup): SafeHtml {
  const tree = lookup.tree;
  const link =
    lookup.link !== undefined
      ? html`<p><a class="langfuse-link" href="${lookup.link}" rel="noreferrer" target="_blank">Open this trace in Langfuse</a></p>`
      : '';
  if (tree === undefined)
    return html`${link}<p class="empty" id="no-tree">${lookup.note ?? 'No tree.'} <span class="muted">(${lookup.source})</span></p>`;
  const [root, ...others] = tree.roots;
  const top = [...(root ? [root] : []), ...others, ...tree.dangling];
  const warnings = [
    tree.roots.length !== 1
      ? `${tree.roots.length} roots in this trace (expected exactly one)`
      : '',
    tree.dangling.length > 0
      ? `${tree.dangling.length} observation(s) whose parent is not in the trace`
      : '',
    lookup.note ?? '',
  ].filter((w) => w !== '');
  return html`${link}<p class="muted">${tree.observations.length} observations from ${lookup.source}</p>
${warnings.map((w) => html`<p class="badge warn">${w}</p>`)}
<ul class="tree" id="tree">${top.map(observationItem)}</ul>`;
}

/** One session: its row(s), attempts with the validator's errors, and its tree. */
export function sessionPage(
  ctx: PageContext,
  sessionId: string,
  rows: ReadonlyArray<{ row: SessionListRow; raw: unknown }>,
  lookup: TraceLookup,
): string {
  if (rows.length === 0) {
    return layout(
      'Session',
      'sessions',
      ctx,
      html`<h1>Session <code>${sessionId}</code></h1><p class="empty">No row with this session id in the log.</p>
<h2>Tree</h2>${treeView(lookup)}`,
    );
  }
  const sections = rows.map(({ row, raw }) => {
    const r = (raw !== null && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
    const field = (label: string, value: unknown): SafeHtml =>
      html`<tr><th>${label}</th><td>${value}</td></tr>`;
    return html`<section class="session-row">
<table class="fields">
${field('verdict', verdictBadge(row.final_verdict))}
${field('kind', row.kind ?? '–')}
${field('model', asText(r['model']) || row.model || '–')}
${field('provider', asText(r['provider']) || row.provider || '–')}
${field('iterations', html`${number(row.iterations)} of ${number(row.max_iterations)}`)}
${field('grounded in roster', groundedCell(row))}
${field('duration', duration(row.duration_ms))}
${field('time (UTC)', asText(r['timestamp']) || row.timestamp || '–')}
${field('daemon', asText(r['daemon']) || '–')}
</table>
<h2>Prompt</h2>
<pre class="prompt">
${raw === undefined ? '(the row could not be read back from the log)' : clipText(asText(r['prompt']), 8000)}</pre>
<h2>Attempts</h2>
${attemptsTable(r['attempts'], lookup.tree)}
${
  r['artifact'] !== undefined
    ? html`<h2>Artifact</h2><pre class="artifact">
${clipText(JSON.stringify(r['artifact'], null, 2), 20000)}</pre>`
    : ''
}
</section>`;
  });
  const body = html`<h1>Session <code>${sessionId}</code></h1>
${rows.length > 1 ? html`<p class="badge warn">${rows.length} rows carry this session id (a reused trace id or a repeated write)</p>` : ''}
${joinHtml(sections)}
<h2>Tree</h2>
${treeView(lookup)}`;
  return layout('Session', 'sessions', ctx, body);
}
