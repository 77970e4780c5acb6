import type { LangfuseTraceTree, TreeObservation } from '@lakehouse/langfuse-processor';
import { clipText } from './clip-text.js';
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
import type { SessionListRow } from './session-list.js';
import type { TraceLookup } from './trace-source.js';

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
  <span class="muted">${formatDuration(o.durationMs)}</span>${o.model !== undefined ? html` <span class="muted">model</span> ${clipText(o.model, 120)}` : ''}${tokens}
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
${field('iterations', html`${formatNumber(row.iterations)} of ${formatNumber(row.max_iterations)}`)}
${field('grounded in roster', groundedCell(row))}
${field('duration', formatDuration(row.duration_ms))}
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
