import { html, joinHtml } from './html.js';
import type { SafeHtml } from './html.js';
import {
  formatDuration,
  formatNumber,
  groundedCell,
  layout,
  levelClass,
  verdictBadge,
} from './page-layout.js';
import type { PageContext } from './page-layout.js';
import type { SessionDetail } from './session-detail.js';
import type { SessionListRow } from './session-list.js';
import type { SessionView, TraceLookupView } from './session-view.js';
import type { TreeNodeView, TreeView } from './tree-view.js';

const more = (n: number, what: string, why: string): SafeHtml =>
  n > 0
    ? html`<p class="badge warn more-note">${formatNumber(n)} more ${what} not shown (${why})</p>`
    : html``;

function attemptsTable(detail: SessionDetail, tree: TreeView | undefined): SafeHtml {
  if (detail.attempts.length === 0) return html`<p class="empty">No attempts.</p>`;
  const ids = new Set<string>();
  const collect = (nodes: readonly TreeNodeView[]): void => {
    for (const n of nodes) {
      ids.add(n.id);
      collect(n.children);
    }
  };
  collect(tree?.top ?? []);
  const hidden = detail.attemptsTotal - detail.attempts.length;
  return html`<table class="attempts"><thead><tr><th>attempt</th><th>verdict</th><th>validator error</th><th>span</th></tr></thead><tbody>
${detail.attempts.map((a) => {
  const span = a.spanId;
  return html`<tr><td class="num">${a.iteration}</td><td>${verdictBadge(a.verdict)}</td>
<td class="error-text validator-error">${a.error}</td>
<td>${span === '' ? html`<span class="muted">–</span>` : ids.has(span) ? html`<a href="#obs-${span}"><code>${span}</code></a>` : html`<code>${span}</code>`}</td></tr>`;
})}
</tbody></table>
${more(hidden, hidden === 1 ? 'attempt' : 'attempts', `a page shows the first ${formatNumber(detail.attempts.length)} of a row`)}`;
}

function observationItem(o: TreeNodeView): SafeHtml {
  const tokens =
    o.tokens !== undefined
      ? html` <span class="muted">tokens ${o.tokens.input ?? '?'}→${o.tokens.output ?? '?'}</span>`
      : '';
  return html`<li id="obs-${o.id}" class="obs ${levelClass(o.level)}">
  <span class="obs-name">${o.name}</span>
  <span class="badge type">${o.type}</span>
  <span class="badge ${levelClass(o.level)}">${o.level}</span>
  <span class="muted">${formatDuration(o.durationMs)}</span>${o.model !== undefined ? html` <span class="muted">model</span> ${o.model}` : ''}${tokens}
  ${o.statusMessage !== undefined && o.level !== 'DEFAULT' ? html`<div class="status-message">${o.statusMessage}</div>` : ''}
  ${o.children.length > 0 ? html`<ul>${o.children.map(observationItem)}</ul>` : ''}
</li>`;
}

function treeView(lookup: TraceLookupView): SafeHtml {
  const tree = lookup.tree;
  const link =
    lookup.link !== undefined
      ? html`<p><a class="langfuse-link" href="${lookup.link}" rel="noreferrer" target="_blank">Open this trace in Langfuse</a></p>`
      : '';
  if (tree === undefined)
    return html`${link}<p class="empty" id="no-tree">${lookup.note ?? 'No tree.'} <span class="muted">(${lookup.source})</span></p>`;
  const warnings = [
    tree.roots !== 1 ? `${tree.roots} roots in this trace (expected exactly one)` : '',
    tree.dangling > 0 ? `${tree.dangling} observation(s) whose parent is not in the trace` : '',
    lookup.note ?? '',
  ].filter((w) => w !== '');
  const hidden = tree.observations - tree.shown;
  return html`${link}<p class="muted">${formatNumber(tree.observations)} observations from ${lookup.source}</p>
${warnings.map((w) => html`<p class="badge warn">${w}</p>`)}
<ul class="tree" id="tree">${tree.top.map(observationItem)}</ul>
${more(hidden, hidden === 1 ? 'observation' : 'observations', `a tree shows the first ${formatNumber(tree.maxNodes)} in tree order, at most ${tree.maxDepth} levels deep`)}`;
}

function rowSection(
  row: SessionListRow,
  detail: SessionDetail,
  tree: TreeView | undefined,
): SafeHtml {
  const field = (label: string, value: unknown): SafeHtml =>
    html`<tr><th>${label}</th><td>${value}</td></tr>`;
  return html`<section class="session-row">
<table class="fields">
${field('verdict', verdictBadge(row.final_verdict))}
${field('kind', row.kind ?? '–')}
${field('model', detail.model || row.model || '–')}
${field('provider', detail.provider || row.provider || '–')}
${field('iterations', html`${formatNumber(row.iterations)} of ${formatNumber(row.max_iterations)}`)}
${field('grounded in roster', groundedCell(row))}
${field('duration', formatDuration(row.duration_ms))}
${field('time (UTC)', detail.timestamp || row.timestamp || '–')}
${field('daemon', detail.daemon || '–')}
</table>
<h2>Prompt</h2>
<pre class="prompt">
${detail.unread !== undefined ? `(${detail.unread})` : detail.prompt}</pre>
<h2>Attempts</h2>
${attemptsTable(detail, tree)}
${
  detail.artifact !== undefined
    ? html`<h2>Artifact</h2><pre class="artifact">
${detail.artifact}</pre>`
    : ''
}
</section>`;
}

/** One session: its row(s), attempts with the validator's errors, and its tree. */
export function sessionPage(ctx: PageContext, view: SessionView): string {
  const { sessionId, rows, rowsTotal, trace } = view;
  if (rows.length === 0) {
    return layout(
      'Session',
      'sessions',
      ctx,
      html`<h1>Session <code>${sessionId}</code></h1><p class="empty">No row with this session id in the log.</p>
<h2>Tree</h2>${treeView(trace)}`,
    );
  }
  const sections = rows.map(({ row, detail }) => rowSection(row, detail, trace.tree));
  const body = html`<h1>Session <code>${sessionId}</code></h1>
${rowsTotal > 1 ? html`<p class="badge warn">${formatNumber(rowsTotal)} rows carry this session id (a reused trace id or a repeated write)</p>` : ''}
${joinHtml(sections)}
${more(rowsTotal - rows.length, 'rows', `a page shows the first ${formatNumber(rows.length)}`)}
<h2>Tree</h2>
${treeView(trace)}`;
  return layout('Session', 'sessions', ctx, body);
}
