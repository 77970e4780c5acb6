import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SessionLogLines } from '../src/index.js';

/** Package root (packages/session-log), resolved from dist/test/. */
export const PACKAGE_DIR = fileURLToPath(new URL('../../', import.meta.url));
/** Repository root, where parity/ lives. */
export const REPO_DIR = fileURLToPath(new URL('../../../../', import.meta.url));
export const FIXTURES_DIR = `${REPO_DIR}parity/fixtures`;
export const EXPECTED_DIR = `${REPO_DIR}parity/expected`;
export const SCHEMA_PATH = `${PACKAGE_DIR}schema/session.iterate.v1.schema.json`;
export const DIST_SRC = fileURLToPath(new URL('../src/', import.meta.url));
const SESSIONS_CLI = `${DIST_SRC}sessions-cli.js`;

/** How a run of the sessions CLI ended: exit code and its whole output, decoded as UTF-8. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built sessions CLI with `args`, `env` over this process's; never rejects. */
export function runSessionsCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SESSIONS_CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('close', (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
  });
}

/** The rows of `sessions sql QUERY --file FILE --json`; asserts that the CLI exited 0. */
export async function sqlJson(query: string, file: string): Promise<unknown> {
  const run = await runSessionsCli(['sql', query, '--file', file, '--json']);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as unknown;
}

/**
 * A session log's text without its empty lines: every write starts with "\n" (so no row is
 * glued onto another producer's fragment), and readers skip the empty lines that leaves.
 */
export function readLog(path: string): string {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line + '\n')
    .join('');
}

/**
 * A valid row's fields as JSON texts, keys in schema order (an accepted, grounded fill written by
 * the Rust producer); tests put hostile texts in place of some.
 */
export const ROW_TEXTS: Readonly<Record<string, string>> = {
  schema: '"session.iterate.v1"',
  session_id: '"s"',
  timestamp: '"2026-01-01T00:00:00.000000Z"',
  daemon: '"rust"',
  kind: '"fill"',
  model: '"m"',
  provider: '"p"',
  prompt: '"x"',
  iterations: '1',
  max_iterations: '3',
  final_verdict: '"accepted"',
  attempts: '[{"iteration":0,"verdict_kind":"accepted"}]',
  artifact: '{"fills":[]}',
  grounded_in_roster: 'true',
  duration_ms: '5',
};

/** One row of the README's Go/serde_json divergence table. */
export interface DivergenceRow {
  /** The fixtures of parity/divergent it names (in brackets in its first cell). */
  fixtures: string[];
  /** The classes of disagreement `npm run parity` reports for them (its last cell). */
  classes: string[];
}

/** The rows of the package README's table "Where Go and Rust disagree". */
export function divergenceTable(): DivergenceRow[] {
  const readme = readFileSync(`${PACKAGE_DIR}README.md`, 'utf8');
  const start = readme.indexOf('### Where Go and Rust disagree');
  const lines = readme.slice(start).split('\n');
  const first = lines.findIndex((line) => line.startsWith('|---'));
  const rows: DivergenceRow[] = [];
  for (const line of lines.slice(first + 1)) {
    if (!line.startsWith('|')) break;
    const cells = line
      .slice(1, -1)
      .split('|')
      .map((cell) => cell.trim());
    const data = cells[0] ?? '';
    const last = cells.at(-1) ?? '';
    const fixtures = [...data.matchAll(/\[([^\]]+)\]/g)].flatMap((m) =>
      [...(m[1] ?? '').matchAll(/`([^`]+)`/g)].map((n) => n[1] ?? ''),
    );
    rows.push({ fixtures, classes: last.split('<br>') });
  }
  return rows;
}

/**
 * The whole `lines` block a report or alarm check should give: the counts named, every other
 * count 0. Tests compare it with `deepEqual`, so a count that should be 0 is still checked.
 */
export function expectedLines(counts: Partial<SessionLogLines>): SessionLogLines {
  return { rows: 0, unreadable: 0, otherSchema: 0, malformed: 0, oversized: 0, ...counts };
}
