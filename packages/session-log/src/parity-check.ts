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
  input: string,
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
export function describeDifference(a: string, b: string): string {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  let i = 0;
  while (i < x.length && i < y.length && x[i] === y[i]) i++;
  const from = Math.max(0, i - 20);
  const show = (buffer: Buffer): string =>
    JSON.stringify(buffer.subarray(from, i + 30).toString('utf8'));
  return `first difference at byte ${i}: ours ${show(x)} vs theirs ${show(y)}`;
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
