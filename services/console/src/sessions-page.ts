import { FINAL_VERDICTS } from '@lakehouse/session-log';
import { html } from './html.js';
import type { SafeHtml } from './html.js';
import { formatNumber, layout, sessionTable } from './page-layout.js';
import type { PageContext } from './page-layout.js';
import { sessionQueryString } from './query-params.js';
import { DEFAULT_PAGE_QUERY, PAGE_SIZES } from './session-filters.js';
import type { SessionPageQuery } from './session-filters.js';
import type { SessionPage } from './session-list.js';

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
  <span id="range">rows ${formatNumber(from)}–${formatNumber(to)} of ${formatNumber(page.total)} · page ${formatNumber(q.page)} of ${formatNumber(last)}</span>
  ${link(q.page + 1, 'next ›', 'next')} ${link(last, 'last »', 'last')}</nav>`;
  const body = html`<h1>Sessions${q.filters.alarm ? html` <span class="badge err">alarm rows</span>` : ''}</h1>
${filterForm(q)}
${pager}
${sessionTable(page.rows, q)}
${pager}`;
  return layout('Sessions', 'sessions', ctx, body);
}
