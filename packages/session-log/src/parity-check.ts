import { spawn } from 'node:child_process';

/** What one probe did with one fixture. Only these two are answers; anything else failed. */
type ProbeOutcome = 'accepted' | 'rejected' | 'failed';

/** Outcome of running one probe on one fixture. */
export interface ProbeRun {
  /** The exit status, or null when the probe did not run or was killed (see `signal`). */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** The raw bytes written: rows are compared byte for byte, invalid UTF-8 included. */
  stdout: Buffer;
  stderr: string;
  /** Why the output is not one valid JSON row, or undefined when it is. */
  invalid: string | undefined;
  /**
   * `accepted`: exit 0 with one valid row. `rejected`: exit 1, nothing on stdout, and the
   * probe's `bad fixture:` message on stderr. `failed`: anything else (a crash, a signal, the
   * timeout, an exit 1 without the message, invalid output) — never an answer.
   */
  outcome: ProbeOutcome;
}

/** Comparison verdict of one fixture. Only `equal` counts as parity. */
export type ParityResult = 'equal' | 'different' | 'ours failed' | 'peer failed' | 'both failed';

const PROBE_TIMEOUT_MS = 30_000;

/** What every probe (ours, the Go and Rust peers) prints on stderr when it refuses a fixture. */
const REJECTION_MARKER = 'bad fixture:';

function outcomeOf(run: Omit<ProbeRun, 'outcome'>): ProbeOutcome {
  if (run.timedOut || run.signal !== null) return 'failed';
  if (run.exitCode === 0) return run.invalid === undefined ? 'accepted' : 'failed';
  if (run.exitCode === 1 && run.stdout.length === 0 && run.stderr.includes(REJECTION_MARKER)) {
    return 'rejected';
  }
  return 'failed';
}

/**
 * Runs `command` (argv form, or a shell command string) with `input` on stdin and classifies
 * its output. Never rejects: spawn errors and timeouts come back as a failed run.
 */
export function runProbe(
  command: readonly string[] | string,
  input: string | Buffer,
  cwd?: string,
): Promise<ProbeRun> {
  return new Promise((resolve) => {
    const child =
      typeof command === 'string'
        ? spawn(command, { shell: true, cwd, stdio: ['pipe', 'pipe', 'pipe'] })
        : spawn(command[0] ?? '', command.slice(1), { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let spawnError: Error | undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, PROBE_TIMEOUT_MS);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.stdin.on('error', () => undefined); // the probe may exit before reading stdin
    child.on('error', (error) => {
      spawnError = error;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out);
      let stderr = Buffer.concat(err).toString('utf8');
      if (spawnError !== undefined) stderr += spawnError.message;
      if (timedOut) stderr += `killed after the ${PROBE_TIMEOUT_MS / 1000} s timeout`;
      const exitCode = spawnError !== undefined ? null : code;
      const run = {
        exitCode,
        signal: spawnError !== undefined ? null : signal,
        timedOut,
        stdout,
        stderr,
        invalid: exitCode === 0 ? checkRowLine(stdout) : undefined,
      };
      resolve({ ...run, outcome: outcomeOf(run) });
    });
    child.stdin.end(input);
  });
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Returns why `output` is not exactly one UTF-8 JSON object line ending in "\n", or undefined. */
export function checkRowLine(output: Buffer | string): string | undefined {
  let text: string;
  try {
    text = typeof output === 'string' ? output : UTF8.decode(output);
  } catch {
    return 'not valid UTF-8';
  }
  if (text === '') return 'empty output';
  if (!text.endsWith('\n')) return 'no trailing newline';
  const body = text.slice(0, -1);
  if (body.includes('\n')) return 'more than one line';
  if (body.endsWith('\r')) return 'CRLF line ending';
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return 'not valid JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'not a JSON object';
  return undefined;
}

function skipString(text: string, i: number): number {
  // i is at the opening quote; returns the index after the closing quote.
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j];
    if (c === '\\') j++;
    else if (c === '"') return j + 1;
  }
  return text.length;
}

function skipValue(text: string, i: number): number {
  // Returns the index of the ',' or '}' that ends a top-level member value starting at i.
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    const c = text[j];
    if (c === '"') {
      j = skipString(text, j) - 1;
    } else if (c === '{' || c === '[') {
      depth++;
    } else if (c === '}' || c === ']') {
      if (depth === 0) return j;
      depth--;
    } else if (c === ',' && depth === 0) {
      return j;
    }
  }
  return text.length;
}

/**
 * Removes the given top-level keys from one JSON object line, keeping every other byte as is
 * (nested keys of the same name stay). `line` must already be valid JSON (see checkRowLine).
 */
export function stripTopLevelKeys(line: string, keys: readonly string[]): string {
  const text = line.endsWith('\n') ? line.slice(0, -1) : line;
  const open = text.indexOf('{');
  const members: string[] = [];
  let i = open + 1;
  while (i < text.length) {
    while (text[i] === ' ' || text[i] === '\t' || text[i] === '\r' || text[i] === '\n') i++;
    if (text[i] === '}' || i >= text.length) break;
    const keyEnd = skipString(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    const end = skipValue(text, keyEnd);
    if (!keys.includes(key)) members.push(text.slice(i, end));
    i = end + 1;
    if (text[end] === '}') break;
  }
  return '{' + members.join(',') + '}';
}

// A row's bytes without the top-level timestamp and daemon. Latin-1 maps each byte to one
// character, so the stripping keeps every other byte as it was (invalid UTF-8 included).
function strippedRow(run: ProbeRun): Buffer {
  return Buffer.from(stripTopLevelKeys(run.stdout.toString('latin1'), STRIPPED_KEYS), 'latin1');
}

/** Describes the first byte where `a` and `b` differ, with a little context from each side. */
function describeDifference(a: Buffer, b: Buffer, names = ['ours', 'theirs']): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const from = Math.max(0, i - 20);
  const show = (buffer: Buffer): string =>
    JSON.stringify(buffer.subarray(from, i + 30).toString('utf8'));
  return `first difference at byte ${i}: ${names[0]} ${show(a)} vs ${names[1]} ${show(b)}`;
}

/** Classifies one fixture: rows equal after stripping timestamp/daemon, or why not. */
export function compareRuns(
  ours: ProbeRun,
  peer: ProbeRun,
): { result: ParityResult; detail?: string } {
  const oursOk = ours.outcome === 'accepted';
  const peerOk = peer.outcome === 'accepted';
  // Two failures are never "equal": a regression where both sides stop producing rows must fail.
  if (!oursOk && !peerOk) return { result: 'both failed' };
  if (!oursOk) return { result: 'ours failed' };
  if (!peerOk) return { result: 'peer failed' };
  const a = strippedRow(ours);
  const b = strippedRow(peer);
  if (a.equals(b)) return { result: 'equal' };
  return { result: 'different', detail: describeDifference(a, b) };
}

/** The two fields that legitimately differ between producers. */
const STRIPPED_KEYS: readonly string[] = ['timestamp', 'daemon'];

/** Short status of one side for the table: `ok`, `rejects`, or how it failed. */
export function describeRun(run: ProbeRun): string {
  if (run.outcome === 'accepted') return 'ok';
  if (run.outcome === 'rejected') return 'rejects';
  if (run.timedOut) return 'FAILED (timeout)';
  if (run.signal !== null) return `FAILED (${run.signal})`;
  if (run.exitCode === null) return 'FAILED (did not run)';
  if (run.exitCode === 0) return `FAILED (${run.invalid ?? 'invalid output'})`;
  return `FAILED (exit ${run.exitCode})`;
}

/** How one fixture came out across our probe and the two reference producers. */
export type MatrixResult =
  | 'equal'
  | 'all reject'
  | 'peers disagree (ours = rust)'
  | 'PEERS DISAGREE, OURS != RUST'
  | 'OURS DIFFERS'
  | 'FAILED';

/** The three runs of one fixture. */
export interface MatrixRuns {
  ours: ProbeRun;
  go: ProbeRun;
  rust: ProbeRun;
}

function sameRow(a: ProbeRun, b: ProbeRun): boolean {
  return strippedRow(a).equals(strippedRow(b));
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

/**
 * Classifies one fixture. A probe that failed (crashed, was killed, timed out, exited 1 without
 * its `bad fixture:` message, wrote no valid row) makes the fixture FAILED: only an accepted
 * row and a rejection are answers. Go and Rust agreeing (same row, or both rejecting) is the rule
 * our probe must meet; where they disagree, ours must do what serde_json does. Two rejections are
 * never "equal": they are "all reject", which only a fixture meant to be refused may be.
 */
export function classifyMatrix(runs: MatrixRuns): { result: MatrixResult; detail?: string } {
  const { ours, go, rust } = runs;
  const failed = (['ours', 'go', 'rust'] as const).filter(
    (name) => runs[name].outcome === 'failed',
  );
  if (failed.length > 0) {
    return {
      result: 'FAILED',
      detail: failed
        .map((name) => `${name} ${describeRun(runs[name])}: ${firstLine(runs[name].stderr)}`)
        .join('; '),
    };
  }
  const oursOk = ours.outcome === 'accepted';
  const rustOk = rust.outcome === 'accepted';
  const goOk = go.outcome === 'accepted';
  const oursAsRust = oursOk === rustOk && (!oursOk || sameRow(ours, rust));
  const oursVsRust = (): string =>
    oursOk && rustOk
      ? describeDifference(strippedRow(ours), strippedRow(rust), ['ours', 'rust'])
      : oursOk
        ? `ours accepts, rust rejects: ${firstLine(rust.stderr)}`
        : `ours rejects (${firstLine(ours.stderr)}), rust accepts`;
  if (goOk && rustOk && sameRow(go, rust)) {
    return oursAsRust ? { result: 'equal' } : { result: 'OURS DIFFERS', detail: oursVsRust() };
  }
  if (!goOk && !rustOk) {
    return oursAsRust
      ? { result: 'all reject' }
      : { result: 'OURS DIFFERS', detail: `ours accepts what both peers reject` };
  }
  const reason = disagreementReason(go, rust);
  return oursAsRust
    ? { result: 'peers disagree (ours = rust)', detail: reason }
    : { result: 'PEERS DISAGREE, OURS != RUST', detail: `${reason}; ${oursVsRust()}` };
}

// Where the member or value around byte `at` of a row starts: after the previous delimiter.
function tokenStart(row: Buffer, at: number): number {
  let from = at;
  while (from > 0 && !',:{['.includes(String.fromCharCode(row[from - 1] ?? 0))) from--;
  return from;
}

// The token starting at byte `from`: up to the next delimiter.
function tokenAt(row: Buffer, from: number): string {
  let to = from;
  while (to < row.length && !',}]'.includes(String.fromCharCode(row[to] ?? 0))) to++;
  return row.subarray(from, Math.min(to, from + 40)).toString('utf8');
}

// The member key nearest before byte `at` (the row's top-level key, or one inside artifact).
function keyBefore(row: Buffer, at: number): string {
  const head = row.subarray(0, at).toString('utf8');
  const keys = [...head.matchAll(/"((?:[^"\\]|\\.)*)":/g)];
  return keys.length > 0 ? `"${keys[keys.length - 1]?.[1] ?? ''}"` : 'row';
}

function shape(token: string): string {
  if (/^-?[0-9]/.test(token)) return token.replace(/[0-9]+/g, 'N');
  if (token.startsWith('"')) return token.endsWith('":') ? token : 'a string';
  return token;
}

function normaliseError(stderr: string): string {
  return firstLine(stderr)
    .replace(/^session-log-peer \((go|rust)\): /, '')
    .replace(/^bad fixture: /, '')
    .replace(/ at line \d+ column \d+$/, '')
    .replace(/`[^`]*`/g, '`…`')
    .replace(/number \S+ into/, 'number into')
    .replace(/\d+/g, 'N');
}

/** A short, groupable reason why Go and Rust disagree on one fixture. */
export function disagreementReason(go: ProbeRun, rust: ProbeRun): string {
  if (go.outcome !== 'accepted') return `go rejects: ${normaliseError(go.stderr)}`;
  if (rust.outcome !== 'accepted') return `rust rejects: ${normaliseError(rust.stderr)}`;
  const x = strippedRow(go);
  const y = strippedRow(rust);
  let i = 0;
  while (i < x.length && i < y.length && x[i] === y[i]) i++;
  const from = Math.min(tokenStart(x, i), tokenStart(y, i));
  const goToken = tokenAt(x, from);
  const rustToken = tokenAt(y, from);
  if (/\\u202[89]/.test(goToken)) return 'go escapes U+2028/U+2029, serde_json writes them raw';
  const member = /^,?"((?:[^"\\]|\\.)*)":/;
  const rustRest = y.subarray(i, i + 80).toString('utf8');
  const goRest = x.subarray(i, i + 80).toString('utf8');
  const omitted = member.exec(rustRest)?.[1];
  if (omitted !== undefined && member.exec(goRest)?.[1] !== omitted) return `go omits "${omitted}"`;
  const rustKey = member.exec(rustToken)?.[1];
  if (rustKey !== undefined && member.exec(goToken)?.[1] !== rustKey)
    return `go omits "${rustKey}"`;
  const where = keyBefore(x, i);
  if (goToken.startsWith('"') && rustToken.startsWith('"')) return `${where}: the strings differ`;
  if (/^-?[0-9]/.test(goToken) && shape(goToken) === shape(rustToken)) {
    return `${where}: go and rust write different digits (${shape(rustToken)})`;
  }
  return `${where}: go writes ${shape(goToken)} where rust writes ${shape(rustToken)}`;
}

/**
 * The class of a disagreement: {@link disagreementReason} without what varies between fixtures
 * of one kind (the member it happened in, quoted names, the JSON type Go refused). The README's
 * divergence table names each class; a test holds it to what the parity run finds.
 */
export function divergenceClass(reason: string): string {
  return reason
    .replace(/^"(?:[^"\\]|\\.)*": /, '')
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/cannot unmarshal \w+ into/, 'cannot unmarshal … into');
}
