import { spawn } from 'node:child_process';

/** Outcome of running one probe on one fixture. */
export interface ProbeRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Why the output is not one valid JSON row, or undefined when it is. */
  invalid: string | undefined;
}

/** Comparison verdict of one fixture. Only `equal` counts as parity. */
export type ParityResult = 'equal' | 'different' | 'ours failed' | 'peer failed' | 'both failed';

const PROBE_TIMEOUT_MS = 30_000;

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
    const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_TIMEOUT_MS);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.stdin.on('error', () => undefined); // the probe may exit before reading stdin
    child.on('error', (error) => {
      spawnError = error;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      let stderr = Buffer.concat(err).toString('utf8');
      if (spawnError !== undefined) stderr += spawnError.message;
      const exitCode = spawnError !== undefined ? null : code;
      resolve({
        exitCode,
        stdout,
        stderr,
        invalid: exitCode === 0 ? checkRowLine(stdout) : undefined,
      });
    });
    child.stdin.end(input);
  });
}

/** Returns why `text` is not exactly one JSON object line ending in "\n", or undefined. */
export function checkRowLine(text: string): string | undefined {
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

/** Describes the first byte where `a` and `b` differ, with a little context from each side. */
export function describeDifference(a: string, b: string, names = ['ours', 'theirs']): string {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  let i = 0;
  while (i < x.length && i < y.length && x[i] === y[i]) i++;
  const from = Math.max(0, i - 20);
  const show = (buffer: Buffer): string =>
    JSON.stringify(buffer.subarray(from, i + 30).toString('utf8'));
  return `first difference at byte ${i}: ${names[0]} ${show(x)} vs ${names[1]} ${show(y)}`;
}

/** Classifies one fixture: rows equal after stripping timestamp/daemon, or why not. */
export function compareRuns(
  ours: ProbeRun,
  peer: ProbeRun,
): { result: ParityResult; detail?: string } {
  const oursOk = ours.exitCode === 0 && ours.invalid === undefined;
  const peerOk = peer.exitCode === 0 && peer.invalid === undefined;
  // Two failures are never "equal": a regression where both sides stop producing rows must fail.
  if (!oursOk && !peerOk) return { result: 'both failed' };
  if (!oursOk) return { result: 'ours failed' };
  if (!peerOk) return { result: 'peer failed' };
  const a = stripTopLevelKeys(ours.stdout, STRIPPED_KEYS);
  const b = stripTopLevelKeys(peer.stdout, STRIPPED_KEYS);
  if (a === b) return { result: 'equal' };
  return { result: 'different', detail: describeDifference(a, b) };
}

/** The two fields that legitimately differ between producers. */
export const STRIPPED_KEYS: readonly string[] = ['timestamp', 'daemon'];

/** Short status of one side for the table: `ok`, `exit N`, or the reason its output is invalid. */
export function describeRun(run: ProbeRun): string {
  if (run.exitCode === null) return 'did not run';
  if (run.exitCode !== 0) return `exit ${run.exitCode}`;
  return run.invalid === undefined ? 'ok' : `invalid (${run.invalid})`;
}

/** How one fixture came out across our probe and the two reference producers. */
export type MatrixResult =
  | 'equal'
  | 'all reject'
  | 'peers disagree (ours = rust)'
  | 'PEERS DISAGREE, OURS != RUST'
  | 'OURS DIFFERS';

/** The three runs of one fixture. */
export interface MatrixRuns {
  ours: ProbeRun;
  go: ProbeRun;
  rust: ProbeRun;
}

function accepted(run: ProbeRun): boolean {
  return run.exitCode === 0 && run.invalid === undefined;
}

function sameRow(a: ProbeRun, b: ProbeRun): boolean {
  return stripTopLevelKeys(a.stdout, STRIPPED_KEYS) === stripTopLevelKeys(b.stdout, STRIPPED_KEYS);
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

/**
 * Classifies one fixture. Go and Rust agreeing (same row, or both refusing) is the rule our
 * probe must meet; where they disagree, ours must do what serde_json does. Two refusals are
 * never "equal": they are "all reject", which only a fixture meant to be refused may be.
 */
export function classifyMatrix(runs: MatrixRuns): { result: MatrixResult; detail?: string } {
  const { ours, go, rust } = runs;
  const oursOk = accepted(ours);
  const rustOk = accepted(rust);
  const goOk = accepted(go);
  const oursAsRust = oursOk === rustOk && (!oursOk || sameRow(ours, rust));
  const oursVsRust = (): string =>
    oursOk && rustOk
      ? describeDifference(
          stripTopLevelKeys(ours.stdout, STRIPPED_KEYS),
          stripTopLevelKeys(rust.stdout, STRIPPED_KEYS),
          ['ours', 'rust'],
        )
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
    .replace(/ at line \d+ column \d+$/, '')
    .replace(/`[^`]*`/g, '`…`')
    .replace(/number \S+ into/, 'number into')
    .replace(/\d+/g, 'N');
}

/** A short, groupable reason why Go and Rust disagree on one fixture. */
export function disagreementReason(go: ProbeRun, rust: ProbeRun): string {
  if (!accepted(go)) return `go rejects: ${normaliseError(go.stderr)}`;
  if (!accepted(rust)) return `rust rejects: ${normaliseError(rust.stderr)}`;
  const a = stripTopLevelKeys(go.stdout, STRIPPED_KEYS);
  const b = stripTopLevelKeys(rust.stdout, STRIPPED_KEYS);
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
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
