// Runs the built trace CLI the way an operator does: a child process, no trace file from the env.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built trace CLI (dist/src/trace-cli.js). */
export const TRACE_CLI = fileURLToPath(new URL('../src/trace-cli.js', import.meta.url));

/** Runs the trace CLI with `args` (LANGFUSE_TRACE_FILE unset); killed after 60 s (code null). */
export function traceCli(...args: string[]): {
  code: number | null;
  stdout: string;
  stderr: string;
} {
  const r = spawnSync(process.execPath, [TRACE_CLI, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, LANGFUSE_TRACE_FILE: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
