// Figure 10: the session console's first page over figure 5's 1,000,000-row log. The real console
// process (its production start command) is started on the log; the first page is timed from
// the moment it listens (cold: it has read nothing yet), then again once every line is indexed,
// with a filter and sort, for the overview, and after 1,000 rows are appended.
import { appendFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { encodeSessionRecord } from '@lakehouse/session-log';
import { REPO_ROOT, fmt, median, progress, verdict } from './common.mjs';
import { syntheticSession, writeLog } from './fig5-duckdb.mjs';

const { isolatedServiceEnv, startService } = await import(
  pathToFileURL(path.join(REPO_ROOT, 'scripts/service-process.mjs')).href
);

async function timedGet(url) {
  const t0 = performance.now();
  const response = await fetch(url);
  const body = await response.text();
  if (response.status !== 200)
    throw new Error(`${url} answered ${response.status}: ${body.slice(0, 200)}`);
  return { ms: performance.now() - t0, body };
}

async function waitUntilIndexed(url, budgetMs) {
  const deadline = Date.now() + budgetMs;
  for (;;) {
    const { log } = await (await fetch(`${url}/healthz`)).json();
    if (log.state === 'ready') return;
    if (Date.now() > deadline)
      throw new Error(`the console did not index the log within ${budgetMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function figure10(sizes) {
  const { rows, runs } = sizes;
  const dir = mkdtempSync(path.join(tmpdir(), 'lakehouse-bench-console-'));
  let service;
  try {
    const file = path.join(dir, 'sessions.jsonl');
    progress(`figure 10: writing ${fmt(rows)} session rows (figure 5's generator)`);
    await writeLog(file, rows);
    const bytes = statSync(file).size;
    const t0 = performance.now();
    service = await startService('console', {
      root: REPO_ROOT,
      env: isolatedServiceEnv({
        SESSION_LOG_PATH: file,
        LANGFUSE_TRACE_FILE: path.join(dir, 'none.jsonl'),
      }),
      quiet: true,
    });
    const startMs = performance.now() - t0;
    const cold = await timedGet(`${service.url}/sessions`);
    if (!cold.body.includes('class="session-link"'))
      throw new Error('the cold first page has no rows');
    const t1 = performance.now();
    await waitUntilIndexed(service.url, 600_000);
    const indexMs = performance.now() - t1 + cold.ms;
    const warm = [];
    const filtered = [];
    const overview = [];
    for (let r = 0; r < runs; r++) {
      warm.push((await timedGet(`${service.url}/sessions`)).ms);
      filtered.push(
        (await timedGet(`${service.url}/sessions?verdict=max_iter_exhausted&sort=duration&page=3`))
          .ms,
      );
      overview.push((await timedGet(`${service.url}/api/overview`)).ms);
    }
    const start = Date.parse('2026-11-02T00:00:00Z');
    let appended = '';
    for (let i = 0; i < 1000; i++)
      appended += encodeSessionRecord(syntheticSession(rows + i, start));
    appendFileSync(file, appended);
    const afterAppend = await timedGet(`${service.url}/sessions?size=200`);
    const page = await (await fetch(`${service.url}/api/sessions?size=1`)).json();
    if (page.total !== rows + 1000)
      throw new Error(`the console shows ${page.total} rows, expected ${rows + 1000}`);
    progress(
      `figure 10: cold first page ${fmt(cold.ms)} ms, indexed in ${fmt(indexMs)} ms, warm ${fmt(median(warm))} ms`,
    );
    return {
      id: 10,
      name: `console first page (${fmt(rows)} rows)`,
      measured: cold.ms,
      display: `${fmt(cold.ms)} ms`,
      target: '< 1,000 ms',
      status: verdict(cold.ms, cold.ms < 1000),
      context:
        `cold: first page as soon as it listens (newest 4 MiB first); all ${fmt(bytes / 1e6)} MB indexed after ${fmt(indexMs)} ms; ` +
        `then first page ${fmt(median(warm))} ms, filtered+sorted page 3 ${fmt(median(filtered))} ms, overview ${fmt(median(overview))} ms (median of ${runs}); ` +
        `+1,000 appended rows on the next page ${fmt(afterAppend.ms)} ms; process start ${fmt(startMs)} ms`,
      details: {
        rows,
        jsonl_bytes: bytes,
        process_start_ms: startMs,
        cold_first_page_ms: cold.ms,
        index_ms: indexMs,
        warm_first_page_ms: warm,
        filtered_page_ms: filtered,
        overview_ms: overview,
        after_append_ms: afterAppend.ms,
      },
    };
  } finally {
    await service?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
