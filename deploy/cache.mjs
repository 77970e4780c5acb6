// What the tools under deploy/ share to build something once into .cache/ (gitignored): an atomic
// fill of a cache folder, and a child process that shows it is alive during a long first build.
import { spawn } from 'node:child_process';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { clearInterval, setInterval } from 'node:timers';

/**
 * Fills `dir` through `fill(staging)`: a sibling staging folder is filled, then renamed into place,
 * so a build that fails or is interrupted never leaves a half-done `dir`. Rejects with fill's error.
 */
export async function fillCacheDir(dir, fill) {
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    await fill(staging);
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

const PROGRESS_EVERY_MS = 30_000;

/**
 * Runs `command args` with its output on stderr, printing `label: still running (N s)` every 30 s
 * so a first build of several minutes is visibly alive. Resolves on exit 0; rejects otherwise.
 */
export function runVisibly(label, command, args, options = {}) {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 2, 2], ...options });
    const ticker = setInterval(
      () =>
        console.error(`${label}: still running (${Math.round((Date.now() - started) / 1000)} s)`),
      PROGRESS_EVERY_MS,
    );
    child.once('error', (error) => {
      clearInterval(ticker);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearInterval(ticker);
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} exited with ${signal ?? code}`));
    });
  });
}
