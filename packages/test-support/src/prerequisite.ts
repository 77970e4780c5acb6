import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';

/** Something a test needs from outside the repository: a tool, a browser, a built binary. */
export interface Prerequisite {
  /** What it is, as the skip line names it (`prometheus`, `the built Collector`). */
  readonly name: string;
  /** Whether it is here. */
  readonly present: () => boolean;
  /** How to get it (`apt-get install prometheus`). */
  readonly install: string;
}

/** What the policy decided for a suite: run it, skip it (outside CI), or fail it (under CI). */
export type PrerequisiteDecision =
  | { readonly action: 'run' }
  | { readonly action: 'skip'; readonly reason: string }
  | { readonly action: 'fail'; readonly reason: string };

function once(probe: () => boolean): () => boolean {
  let result: boolean | undefined;
  return () => (result ??= probe());
}

/** A command that answers `args` with exit status 0 (probed once, on first use). */
export function commandPrerequisite(
  name: string,
  command: string,
  args: readonly string[],
  install: string,
): Prerequisite {
  return {
    name,
    install,
    present: once(
      () => spawnSync(command, args, { stdio: 'ignore', timeout: 30_000 }).status === 0,
    ),
  };
}

/** A file that must exist (a browser, a built binary). */
export function filePrerequisite(name: string, file: string, install: string): Prerequisite {
  return { name, install, present: () => existsSync(file) };
}

/** The tools several suites share. */
export const PREREQUISITES = {
  prometheus: commandPrerequisite(
    'prometheus',
    'prometheus',
    ['--version'],
    'apt-get install prometheus',
  ),
  go: commandPrerequisite('Go', 'go', ['version'], 'install Go 1.24 or newer (https://go.dev/dl/)'),
  cargo: commandPrerequisite('cargo', 'cargo', ['--version'], 'install Rust and cargo (rustup)'),
  chromium: (file: string): Prerequisite =>
    filePrerequisite(`chromium at ${file}`, file, 'apt-get install chromium, or set CHROMIUM_PATH'),
} as const;

/** CI mode: `CI` set to anything but empty, `false` or `0` (CI=true in .ci/run and GitHub). */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env.CI ?? '').trim().toLowerCase();
  return value !== '' && value !== 'false' && value !== '0';
}

/**
 * The one prerequisite policy, without side effects: every prerequisite present → run; some
 * missing → under CI fail, elsewhere skip; either way the reason names each missing one and how
 * to get it.
 */
export function decidePrerequisites(
  prerequisites: readonly Prerequisite[],
  env: NodeJS.ProcessEnv = process.env,
): PrerequisiteDecision {
  const missing = prerequisites.filter((p) => !p.present());
  if (missing.length === 0) return { action: 'run' };
  const needs = missing.map((p) => `${p.name} (${p.install})`).join('; ');
  return inCi(env)
    ? { action: 'fail', reason: `CI is set but this suite's prerequisites are missing: ${needs}` }
    : { action: 'skip', reason: `needs ${needs}` };
}

/**
 * The `skip` option of a suite that needs `prerequisites`: false when all are here. Outside CI a
 * missing one skips the suite with one line naming what to install. Under CI it registers one
 * failing test with that message instead (and skips the suite, so the failure is that line, not
 * a cascade), so CI can never pass by skipping.
 */
export function requires(...prerequisites: Prerequisite[]): string | false {
  const decision = decidePrerequisites(prerequisites);
  if (decision.action === 'run') return false;
  if (decision.action === 'fail') {
    void test(`prerequisites: ${prerequisites.map((p) => p.name).join(', ')}`, () => {
      throw new Error(decision.reason);
    });
  }
  return decision.reason;
}
