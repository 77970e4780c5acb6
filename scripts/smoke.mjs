// `npm run smoke [-- --gateway URL …]`: verifies a RUNNING stack end to end (the `npm start` one or
// the compose one) and prints the evidence, one line per link. Exits 1 with
// `smoke: FAIL <link>: <why>` on the first broken link, 0 with a summary when every link holds.
// Run after `tsc -b` (the npm script does that): it uses the roster and langfuse-processor dists.
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_ROSTER_ROWS = 2000; // what `npm start` and the Docker image generate
const HTTP_TIMEOUT_MS = 10_000;
const POLL_MS = 250;
const LANGFUSE_POLL_MS = 1000; // Langfuse's public API is rate limited
const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

const USAGE = `usage: npm run smoke [-- options]
  --gateway URL      gateway to verify (default http://127.0.0.1:4110)
  --chatd URL        chatd to verify (default http://127.0.0.1:4120)
  --sessions FILE    session log to check (default $SESSION_LOG_PATH or data/sessions.jsonl; "none" skips)
  --traces FILE      offline trace file (default $LANGFUSE_TRACE_FILE or data/traces.jsonl)
  --provider NAME    provider of the retried session (default sim)
  --model NAME       model of the retried session (default phantom-once)
  --contract JSON    fill contract (default: from the roster at $ROSTER_PATH or data/roster.parquet)
  --timeout SECONDS  how long to wait for rows, traces and Langfuse ingestion (default 60)
With LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY (and LANGFUSE_BASE_URL) set, the tree is read from
Langfuse's public API instead of the trace file.`;

class SmokeFailure extends Error {
  constructor(link, why) {
    super(`${link}: ${why}`);
    this.link = link;
    this.why = why;
  }
}

function fail(link, why) {
  throw new SmokeFailure(link, why);
}
function ok(line) {
  console.log(`ok    ${line}`);
}
function note(line) {
  console.log(`note  ${line}`);
}
const short = (id) => `${String(id).slice(0, 8)}…`;

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      gateway: { type: 'string', default: 'http://127.0.0.1:4110' },
      chatd: { type: 'string', default: 'http://127.0.0.1:4120' },
      sessions: { type: 'string' },
      traces: { type: 'string' },
      provider: { type: 'string', default: 'sim' },
      model: { type: 'string', default: 'phantom-once' },
      contract: { type: 'string' },
      timeout: { type: 'string', default: '60' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const timeoutS = Number(values.timeout);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new Error(`--timeout must be a positive number of seconds, got "${values.timeout}"`);
  let contract;
  if (values.contract !== undefined) {
    try {
      contract = JSON.parse(values.contract);
    } catch (error) {
      throw new Error(`--contract is not JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (contract === null || typeof contract !== 'object' || Array.isArray(contract)) throw new Error('--contract must be a JSON object');
  }
  const env = process.env;
  const sessions = values.sessions ?? (env.SESSION_LOG_PATH || undefined);
  const traces = values.traces ?? (env.LANGFUSE_TRACE_FILE || undefined);
  return {
    help: values.help,
    gateway: values.gateway.replace(/\/+$/, ''),
    chatd: values.chatd.replace(/\/+$/, ''),
    // An explicit path that never gets our rows is a failure; the implicit default may belong to
    // another stack (e.g. data/ from an earlier `npm start` while compose runs), so it is skipped.
    sessions: sessions === 'none' ? undefined : path.resolve(sessions ?? path.join(root, 'data/sessions.jsonl')),
    sessionsExplicit: sessions !== undefined,
    traces: path.resolve(traces ?? path.join(root, 'data/traces.jsonl')),
    tracesExplicit: traces !== undefined,
    provider: values.provider,
    model: values.model,
    contract,
    timeoutMs: Math.round(timeoutS * 1000),
    langfuse:
      env.LANGFUSE_PUBLIC_KEY && env.LANGFUSE_SECRET_KEY
        ? {
            baseUrl: (env.LANGFUSE_BASE_URL || 'https://cloud.langfuse.com').replace(/\/+$/, ''),
            auth: `Basic ${Buffer.from(`${env.LANGFUSE_PUBLIC_KEY}:${env.LANGFUSE_SECRET_KEY}`).toString('base64')}`,
          }
        : undefined,
  };
}

// undici hides the useful part ("ECONNREFUSED") in `cause`.
function networkCause(error) {
  if (error instanceof Error && error.name === 'TimeoutError') return 'no answer in time';
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** fetch that never throws: {status, headers, text, json} or {error}. */
async function request(url, { method = 'GET', headers = {}, body, timeoutMs = HTTP_TIMEOUT_MS } = {}) {
  try {
    const response = await fetch(url, { method, headers, body, signal: globalThis.AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  } catch (error) {
    return { error: networkCause(error) };
  }
}

async function probe(link, url, hint) {
  const res = await request(url);
  if (res.error) fail(link, `${url} unreachable (${res.error})${hint ? `; ${hint}` : ''}`);
  if (res.status !== 200) fail(link, `${url} answered ${res.status} ${res.text.slice(0, 300)}`);
  ok(`${link} 200 ${res.text.slice(0, 120)}`);
}

/** A workspace package by name (its build output: the npm script runs `tsc -b` first). */
const PACKAGES = {
  roster: () => import('@lakehouse/roster'),
  'langfuse-processor': () => import('@lakehouse/langfuse-processor'),
};
async function loadPackage(name) {
  try {
    return await PACKAGES[name]();
  } catch (error) {
    throw new Error(`cannot load @lakehouse/${name} (run \`npx tsc -b\` first): ${error instanceof Error ? error.message : String(error)}`);
  }
}

// ---- the fill contract -------------------------------------------------------------------------

async function resolveContract(options) {
  if (options.contract) {
    note(`contract from --contract: ${JSON.stringify(options.contract)}`);
    return options.contract;
  }
  const { WorkerLookup, generateRoster, sampleContract } = await loadPackage('roster');
  const quiet = { warn() {}, info() {} };
  const rosterPath = path.resolve(process.env.ROSTER_PATH || path.join(root, 'data/roster.parquet'));
  let roster = await WorkerLookup.load(rosterPath, { logger: quiet });
  let source = shownPath(rosterPath);
  let tempDir;
  if (!roster.ready) {
    tempDir = mkdtempSync(path.join(tmpdir(), 'lakehouse-smoke-'));
    const out = path.join(tempDir, 'roster.parquet');
    await generateRoster({ rows: DEFAULT_ROSTER_ROWS, out });
    roster = await WorkerLookup.load(out, { logger: quiet });
    source = `${out} (generated)`;
    note(
      `no roster at ${shownPath(rosterPath)}: assumed the default sample roster (${DEFAULT_ROSTER_ROWS} rows, default seed, ` +
        'what `npm start` and the Docker image generate); pass --contract or ROSTER_PATH if the stack uses another',
    );
  }
  // The same contract `npm start` prints in its curl.
  const contract = { target_count: 3, ...sampleContract(roster, 1), client_id: 'C-007' };
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  note(`contract from roster ${source}: ${JSON.stringify(contract)}`);
  return contract;
}

// ---- sessions ----------------------------------------------------------------------------------

async function runSession(options, label, { model, chosenTraceId, expectRetry }, contract) {
  const link = `session ${label}`;
  const headers = { 'content-type': 'application/json' };
  if (chosenTraceId) headers['x-lakehouse-trace-id'] = chosenTraceId;
  const payload = {
    kind: 'fill',
    prompt: `Staff ${contract.target_count ?? 'the'} ${contract.role ?? 'worker'}s in ${contract.city ?? 'town'}, ${contract.state ?? ''} for client ${contract.client_id ?? 'C-1'}.`,
    provider: options.provider,
    model,
    context: contract,
  };
  const url = `${options.gateway}/v1/iterate`;
  const res = await request(url, { method: 'POST', headers, body: JSON.stringify(payload), timeoutMs: Math.max(options.timeoutMs, 30_000) });
  if (res.error) fail(link, `POST ${url} failed (${res.error})`);
  const body = res.json ?? {};
  const strictSim = options.provider === 'sim';
  const allowed = strictSim ? [200] : [200, 422];
  if (!allowed.includes(res.status)) {
    const why = body.error ?? res.text.slice(0, 300);
    const hint = res.status === 422 && strictSim ? ' (is the contract from the roster the stack uses? pass --contract or ROSTER_PATH)' : '';
    fail(link, `POST /v1/iterate (${options.provider}/${model}) answered ${res.status}: ${why}${hint}`);
  }
  const header = res.headers.get('x-lakehouse-trace-id');
  if (!header || !HEX32.test(header)) fail(link, `response header x-lakehouse-trace-id is ${JSON.stringify(header)}, expected 32 lowercase hex`);
  if (body.trace_id !== header) fail(link, `trace_id in the body (${body.trace_id}) differs from the header (${header})`);
  if (chosenTraceId && header !== chosenTraceId) fail(link, `sent x-lakehouse-trace-id ${chosenTraceId} but the session came back as ${header}`);
  const history = Array.isArray(body.history) ? body.history : [];
  if (typeof body.iterations !== 'number' || history.length !== body.iterations) {
    fail(link, `iterations ${body.iterations} does not match ${history.length} history entries`);
  }
  if (expectRetry && (history.length < 2 || history[0].status === 'accepted')) {
    fail(link, `${options.provider}/${model} should retry after a rejected first attempt, got history ${JSON.stringify(history.map((h) => h.status))}`);
  }
  const verdict = res.status === 200 ? 'accepted' : 'max_iter_exhausted';
  const steps = history.map((h) => `${h.status}${h.error ? ` "${h.error}"` : ''}`).join(' → ');
  ok(
    `${link} (${options.provider}/${model}${chosenTraceId ? `, x-lakehouse-trace-id ${chosenTraceId}` : ''}) ${res.status} ${verdict} ` +
      `in ${body.iterations} iteration(s); trace ${header} in header and body; ${steps}`,
  );
  return { label, traceId: header, status: res.status, verdict, iterations: body.iterations, history, model };
}

// ---- files written by the stack ---------------------------------------------------------------

// Paths under the working directory print relative to it, as a user typed them.
function shownPath(file) {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

function fileSize(file) {
  try {
    return statSync(file).size;
  } catch {
    return undefined;
  }
}

/**
 * Complete lines appended to `file` since byte `offset` (from 0 if the file shrank) and the offset
 * to continue from; a line still being written stays for the next read.
 */
function readAppended(file, offset) {
  const size = fileSize(file);
  if (size === undefined) return { lines: [], next: offset };
  const start = size < offset ? 0 : offset;
  if (size === start) return { lines: [], next: start };
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(size - start);
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, start + read);
      if (n === 0) break;
      read += n;
    }
    const end = read > 0 ? buffer.lastIndexOf(0x0a, read - 1) : -1;
    if (end < 0) return { lines: [], next: start };
    return { lines: buffer.subarray(0, end).toString('utf8').split('\n'), next: start + end + 1 };
  } finally {
    closeSync(fd);
  }
}

function parseLine(line) {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

async function checkSessionRows(options, offset, sessions) {
  const link = 'session rows';
  const file = options.sessions;
  if (file === undefined) {
    note('session rows: skipped (--sessions none)');
    return undefined;
  }
  const wanted = new Set(sessions.map((s) => s.traceId));
  const deadline = Date.now() + options.timeoutMs;
  // Rows arrive within a fraction of a second; a log that nothing reaches is not this stack's.
  const idleDeadline = Date.now() + Math.min(options.timeoutMs, 5000);
  const rows = new Map();
  let next = offset ?? 0;
  for (;;) {
    const appended = readAppended(file, next);
    next = appended.next;
    for (const line of appended.lines) {
      const row = line.includes('session_id') ? parseLine(line) : undefined;
      if (row && wanted.has(row.session_id)) rows.set(row.session_id, row);
    }
    if (rows.size === wanted.size) break;
    const size = fileSize(file);
    if (size === (offset ?? 0) || size === undefined) {
      if (size === undefined && Date.now() > idleDeadline) {
        note(`session rows: skipped, ${file} is not reachable from here (pass --sessions FILE to check them)`);
        return undefined;
      }
      if (!options.sessionsExplicit && Date.now() > idleDeadline) {
        note(`session rows: skipped, nothing was appended to ${file} during this run, so it is not this stack's log (pass --sessions FILE)`);
        return undefined;
      }
    }
    if (Date.now() > deadline) {
      const missing = [...wanted].filter((id) => !rows.has(id));
      fail(link, `no session.iterate.v1 row for trace ${missing.join(', ')} in ${file} after ${options.timeoutMs / 1000} s`);
    }
    await sleep(POLL_MS);
  }
  for (const session of sessions) {
    const row = rows.get(session.traceId);
    const where = `row ${session.traceId}`;
    if (row.schema !== 'session.iterate.v1') fail(link, `${where} has schema ${JSON.stringify(row.schema)}`);
    if (row.final_verdict !== session.verdict) fail(link, `${where} has final_verdict ${row.final_verdict}, the response said ${session.verdict}`);
    if (row.iterations !== session.iterations) fail(link, `${where} has iterations ${row.iterations}, the response said ${session.iterations}`);
    const attempts = Array.isArray(row.attempts) ? row.attempts : [];
    if (attempts.length !== session.iterations) fail(link, `${where} has ${attempts.length} attempts for ${session.iterations} iterations`);
    attempts.forEach((attempt, i) => {
      if (attempt.iteration !== i) fail(link, `${where} attempt ${i} has iteration ${attempt.iteration}`);
      if (attempt.verdict_kind !== session.history[i]?.status) {
        fail(link, `${where} attempt ${i} verdict_kind ${attempt.verdict_kind}, the response history says ${session.history[i]?.status}`);
      }
      if (typeof attempt.span_id !== 'string' || !HEX16.test(attempt.span_id)) {
        fail(link, `${where} attempt ${i} span_id ${JSON.stringify(attempt.span_id)} is not 16 hex (is tracing off, OTEL_SDK_DISABLED?)`);
      }
    });
    ok(
      `session row ${session.traceId} in ${shownPath(file)}: ${row.final_verdict}, ${row.iterations} iteration(s), attempts ` +
        attempts.map((a) => `${a.verdict_kind}(span ${a.span_id})`).join(' → '),
    );
  }
  return rows;
}

// ---- the Langfuse tree -------------------------------------------------------------------------

/**
 * Checks one session's observations (normalised: id, parentId, isRoot, name, type (upper case),
 * level, model) and returns undefined when complete and right, else why not. `final` = no more
 * waiting: report what is wrong rather than what is missing.
 */
function treeProblems(observations, session, final) {
  const ids = new Set(observations.map((o) => o.id));
  const roots = observations.filter((o) => o.isRoot);
  const dangling = observations.filter((o) => !o.isRoot && !ids.has(o.parentId));
  const root = roots[0];
  const attempts = observations.filter((o) => /^attempt \d+$/.test(o.name) && o.type === 'SPAN');
  const generations = observations.filter((o) => o.type === 'GENERATION');
  const missing = [];
  if (roots.length === 0) missing.push('the session root');
  if (attempts.length < session.iterations) missing.push(`${session.iterations - attempts.length} of ${session.iterations} attempt spans`);
  const withGeneration = attempts.filter((a) => generations.some((g) => g.parentId === a.id));
  if (withGeneration.length < session.iterations) missing.push(`generations under ${session.iterations - withGeneration.length} attempt(s)`);
  if (missing.length > 0 && !final) return { pending: true, why: `waiting for ${missing.join(', ')}` };
  if (observations.length === 0) return { pending: true, why: 'no observations' };
  if (roots.length !== 1) return { why: `${roots.length} root observations (expected exactly one): ${roots.map((o) => `${o.name} (${o.id})`).join(', ')}` };
  if (dangling.length > 0) return { why: `observations whose parent is not in the trace: ${dangling.map((o) => `${o.name} (${o.id}) -> ${o.parentId}`).join(', ')}` };
  if (missing.length > 0) return { why: `missing ${missing.join(', ')}` };
  if (attempts.length !== session.iterations) return { why: `${attempts.length} attempt spans for ${session.iterations} iterations` };
  for (const attempt of attempts) {
    if (attempt.parentId !== root.id) return { why: `${attempt.name} is not a child of the root ${root.name}` };
    const i = Number(attempt.name.slice('attempt '.length));
    const status = session.history[i]?.status;
    const expected = status === 'accepted' ? 'DEFAULT' : status === 'infra_error' ? 'ERROR' : 'WARNING';
    if (attempt.level !== expected) return { why: `${attempt.name} (${status}) has level ${attempt.level}, expected ${expected}` };
  }
  for (const generation of generations) {
    if (!generation.model) return { why: `generation ${generation.name} (${generation.id}) has no model` };
  }
  return undefined;
}

function upper(type) {
  return String(type ?? '').toUpperCase();
}

function fromTreeFile(tree) {
  return tree.observations.map((o) => ({
    id: o.id,
    parentId: o.parentId,
    isRoot: o.isRoot,
    name: o.name,
    type: upper(o.type),
    level: o.level,
    model: o.model,
  }));
}

async function treeFromFile(options, offset, session, trees) {
  const file = options.traces;
  const link = `trace ${session.traceId}`;
  const deadline = Date.now() + options.timeoutMs;
  // Spans reach the file within a few seconds (batch delay); a file nothing reaches is not this stack's.
  const idleDeadline = Date.now() + Math.min(options.timeoutMs, 10_000);
  const requests = [];
  let next = offset ?? 0;
  for (;;) {
    const appended = readAppended(file, next);
    next = appended.next;
    for (const line of appended.lines) if (line.includes(session.traceId)) requests.push(parseLine(line));
    const tree = trees.buildLangfuseTrees(requests.filter(Boolean)).find((t) => t.traceId === session.traceId);
    const final = Date.now() > deadline;
    const problem = tree ? treeProblems(fromTreeFile(tree), session, final) : { pending: true, why: 'the trace is not in the file' };
    if (!problem) return { tree, source: shownPath(file) };
    const size = fileSize(file);
    if (!tree && (size === undefined || size === (offset ?? 0)) && Date.now() > idleDeadline) {
      fail(
        link,
        `${size === undefined ? `offline trace file ${file} not found` : `nothing was written to ${file} during this run`}: ` +
          'if the stack exports to Langfuse, set LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY and LANGFUSE_BASE_URL; else pass --traces FILE',
      );
    }
    if (!problem.pending || final) {
      const shown = tree ? `\n${indent(trees.renderTraceTree(tree))}` : '';
      fail(link, `${problem.why} in ${file} after ${Math.round((Date.now() - deadline + options.timeoutMs) / 1000)} s${shown}`);
    }
    await sleep(POLL_MS);
  }
}

async function treeFromLangfuse(options, session, trees) {
  const { langfuse } = options;
  const link = `trace ${session.traceId}`;
  const deadline = Date.now() + options.timeoutMs;
  let useV1 = false;
  let last = 'no answer yet';
  for (;;) {
    const api = { baseUrl: langfuse.baseUrl, authorization: langfuse.auth, timeoutMs: HTTP_TIMEOUT_MS };
    const got = await trees.fetchLangfuseObservations(api, session.traceId, useV1 ? 'v1' : 'v2');
    if (got.observations) {
      const final = Date.now() > deadline;
      const problem = treeProblems(got.observations, session, final);
      if (!problem) return { tree: trees.langfuseTreeFromObservations(session.traceId, got.observations, got.name), source: `Langfuse ${langfuse.baseUrl} (${got.endpoint})`, endpoint: got.endpoint };
      last = `${got.endpoint} returned ${got.observations.length} observation(s): ${problem.why}`;
      if (!problem.pending) fail(link, `${problem.why} (${got.endpoint} at ${langfuse.baseUrl})\n${indent(trees.renderTraceTree(trees.langfuseTreeFromObservations(session.traceId, got.observations, got.name)))}`);
    } else if (got.error) {
      if (got.error === 'ECONNREFUSED') fail('langfuse', `${got.url} unreachable (ECONNREFUSED); is LANGFUSE_BASE_URL=${langfuse.baseUrl} right?`);
      last = `${got.url} failed (${got.error})`;
    } else if (got.malformed) {
      fail('langfuse', `${got.url} answered 200 without ${got.malformed}: ${got.body.slice(0, 200)}`);
    } else if (got.status === 401 || got.status === 403) {
      fail('langfuse', `${got.url} answered ${got.status}: check LANGFUSE_PUBLIC_KEY / LANGFUSE_SECRET_KEY for ${langfuse.baseUrl}`);
    } else if (got.status === 404 && !useV1) {
      // Older servers have no v2 observations API; the v1 trace endpoint still answers there.
      note(`langfuse: ${got.url} answered 404; falling back to GET /api/public/traces/{traceId}`);
      useV1 = true;
      continue;
    } else {
      // v1 answers 404 until ingestion catches up; 429/5xx are worth another try too.
      last = `${got.url} answered ${got.status} ${got.body.slice(0, 120)}`;
    }
    if (Date.now() > deadline) fail(link, `session tree not in Langfuse after ${Math.round(options.timeoutMs / 1000)} s (last: ${last})`);
    await sleep(LANGFUSE_POLL_MS);
  }
}

function indent(text) {
  return text
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');
}

async function checkTree(options, traceOffset, session, rows, trees) {
  const { tree, source } = options.langfuse
    ? await treeFromLangfuse(options, session, trees)
    : await treeFromFile(options, traceOffset, session, trees);
  const observations = tree.observations;
  const attempts = observations.filter((o) => /^attempt \d+$/.test(o.name)).sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  const generations = observations.filter((o) => o.type === 'generation');
  const models = [...new Set(generations.map((g) => g.model))].join(', ');
  const warnings = attempts.filter((a) => a.level === 'WARNING').map((a) => a.name);
  ok(
    `tree ${session.traceId} from ${source}: 1 root (${tree.roots[0].name}), ${attempts.length} attempt(s), ` +
      `${generations.length} generation(s) (model ${models}), WARNING on ${warnings.length > 0 ? warnings.join(', ') : 'none'}, no dangling parents`,
  );
  console.log(indent(trees.renderTraceTree(tree)));
  const row = rows?.get(session.traceId);
  if (row) {
    const fromRow = row.attempts.map((a) => a.span_id);
    const fromTree = attempts.map((a) => a.id);
    if (JSON.stringify(fromRow) !== JSON.stringify(fromTree)) {
      fail(`trace ${session.traceId}`, `attempt span ids in the session row ${fromRow.join(', ')} differ from the tree's attempt observations ${fromTree.join(', ')}`);
    }
    ok(`attempt span ids in the session row match the tree's attempt observations (${fromTree.join(', ')})`);
  }
  return { source, observations: observations.length };
}

// ---- metrics -----------------------------------------------------------------------------------

/** Sum of the samples of `name` (exact metric name, any labels) whose labels include `labels`. */
function metricSum(text, name, labels = []) {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    if (!labels.every((l) => line.includes(l))) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) {
      sum += value;
      found = true;
    }
  }
  return found ? sum : undefined;
}

async function metricsText(link, url) {
  const res = await request(url);
  if (res.error) fail(link, `${url} unreachable (${res.error})`);
  if (res.status !== 200) fail(link, `${url} answered ${res.status}`);
  return res.text;
}

async function checkMetrics(options, baseline, sessionCount) {
  const gatewayUrl = `${options.gateway}/metrics`;
  const chatdUrl = `${options.chatd}/metrics`;
  const gateway = await metricsText('gateway /metrics', gatewayUrl);
  const sessions = metricSum(gateway, 'lakehouse_iterate_sessions_total', ['kind="fill"']);
  if (sessions === undefined) fail('gateway /metrics', `${gatewayUrl} has no lakehouse_iterate_sessions_total{kind="fill"}`);
  if (sessions - baseline < sessionCount) {
    fail('gateway /metrics', `lakehouse_iterate_sessions_total{kind="fill"} went from ${baseline} to ${sessions}, expected at least +${sessionCount}`);
  }
  ok(`gateway /metrics: lakehouse_iterate_sessions_total{kind="fill"} ${baseline} → ${sessions}`);
  const chatd = await metricsText('chatd /metrics', chatdUrl);
  const tokens = metricSum(chatd, 'gen_ai_client_token_usage_sum');
  const calls = metricSum(chatd, 'gen_ai_client_token_usage_count', ['gen_ai_token_type="input"']);
  if (tokens === undefined) fail('chatd /metrics', `${chatdUrl} has no gen_ai_client_token_usage histogram`);
  ok(`chatd /metrics: gen_ai_client_token_usage ${tokens} tokens over ${calls ?? '?'} call(s)`);
}

// ---- main --------------------------------------------------------------------------------------

async function main(argv) {
  const options = parseOptions(argv);
  if (options.help) {
    console.log(USAGE);
    return;
  }
  const started = Date.now();
  const mode = options.langfuse ? `Langfuse at ${options.langfuse.baseUrl}` : `offline trace file ${shownPath(options.traces)}`;
  console.log(`smoke: gateway ${options.gateway}, chatd ${options.chatd}, tree from ${mode}`);

  await probe('gateway /healthz', `${options.gateway}/healthz`, 'is the stack running (npm start / docker compose up)? pass --gateway URL');
  await probe('chatd /healthz', `${options.chatd}/healthz`, 'is chatd running? pass --chatd URL');
  await probe('gateway /readyz', `${options.gateway}/readyz`);

  const contract = await resolveContract(options);
  const baseline = metricSum(await metricsText('gateway /metrics', `${options.gateway}/metrics`), 'lakehouse_iterate_sessions_total', ['kind="fill"']) ?? 0;
  // Rows and spans of this run are appended after these offsets.
  const sessionsOffset = options.sessions ? fileSize(options.sessions) : undefined;
  const tracesOffset = options.langfuse ? undefined : fileSize(options.traces);

  const sim = options.provider === 'sim';
  const otherModel = sim ? 'clean' : options.model;
  const chosen = randomBytes(16).toString('hex');
  const sessions = [];
  sessions.push(await runSession(options, '1/3 retried', { model: options.model, expectRetry: sim && options.model === 'phantom-once' }, contract));
  if (!sim) note(`provider ${options.provider} is not sim: session 1 is not required to retry`);
  sessions.push(await runSession(options, '2/3 chosen trace id', { model: otherModel, chosenTraceId: chosen }, contract));
  sessions.push(await runSession(options, '3/3 clean', { model: otherModel }, contract));

  const rows = await checkSessionRows(options, sessionsOffset, sessions);
  const tree = await checkTree(options, tracesOffset, sessions[0], rows, await loadPackage('langfuse-processor'));
  await checkMetrics(options, baseline, sessions.length);

  console.log(
    `smoke: ok — ${sessions.length} sessions (${sessions.map((s) => `${short(s.traceId)} ${s.verdict}/${s.iterations}`).join(', ')}), ` +
      `session rows ${rows ? 'checked' : 'skipped'}, tree of ${tree.observations} observations from ${tree.source}, metrics on both services; ` +
      `${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

try {
  await main(process.argv.slice(2));
  process.exit(0);
} catch (error) {
  if (error instanceof SmokeFailure) {
    console.log(`FAIL  ${error.link}: ${error.why}`);
    console.error(`smoke: FAIL ${error.link}: ${error.why}`);
  } else {
    console.error(`smoke: FAIL setup: ${error instanceof Error ? error.message : String(error)} (npm run smoke -- --help lists the options)`);
  }
  process.exit(1);
}
