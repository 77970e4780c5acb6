import { html } from './html.js';
import type { SafeHtml } from './html.js';
import type { Overview } from './overview-query.js';
import { formatNumber, layout, sessionTable } from './page-layout.js';
import type { PageContext } from './page-layout.js';
import type { SessionListRow } from './session-list.js';

function bucketText(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400} day`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
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
  <h1>ALARM: ${formatNumber(t.alarm)} accepted fill${t.alarm === 1 ? '' : 's'} not grounded in the roster</h1>
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
  ${card('sessions', formatNumber(t.sessions), `${t.first ?? '–'} → ${t.last ?? '–'}`, '/sessions')}
  ${card('accepted', formatNumber(t.accepted), share(t.accepted), '/sessions?verdict=accepted')}
  ${card('max_iter_exhausted', formatNumber(t.max_iter_exhausted), share(t.max_iter_exhausted), '/sessions?verdict=max_iter_exhausted')}
  ${card('infra_error', formatNumber(t.infra_error), share(t.infra_error), '/sessions?verdict=infra_error')}
  ${card('with a phantom', formatNumber(t.phantom_sessions), 'sessions with a "not in roster" rejection', '/sessions?phantom=1')}
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
