// Cross-service test harness: starts the real services with their production start command.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ChildProcess } from 'node:child_process';

// One copy of these lives in @lakehouse/test-support; the e2e suites keep importing them from here.
export { eventually, freePort, postJson } from '@lakehouse/test-support';

/** The repository root (this file runs from test/dist/src). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface ServiceHandle {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Every stdout/stderr line the service wrote so far. */
  readonly lines: string[];
  exited(): boolean;
  stop(graceMs?: number): Promise<number | null>;
}

interface ServiceProcessModule {
  startService(
    name: string,
    options: {
      root: string;
      env?: Record<string, string>;
      quiet?: boolean;
      /** The node binary a `node …` start script runs with (default: this process's). */
      node?: string;
    },
  ): Promise<ServiceHandle>;
  serviceStartArgv(root: string, name: string): string[];
  isolatedServiceEnv(extra: Record<string, string>): Record<string, string>;
}

const serviceProcess = (await import(
  pathToFileURL(path.join(REPO_ROOT, 'scripts/service-process.mjs')).href
)) as ServiceProcessModule;

/** The argv a service's package.json "start" script runs (the image's CMD must match it). */
export const serviceStartArgv = (name: string): string[] =>
  serviceProcess.serviceStartArgv(REPO_ROOT, name);

/** Env every test service gets: no inherited Langfuse/OTLP settings, quiet logs, free ports. */
export const baseEnv = (extra: Record<string, string> = {}): Record<string, string> =>
  serviceProcess.isolatedServiceEnv(extra);

/**
 * Starts one service quietly with the given env on top of baseEnv(), from the repository or from
 * another tree laid out like it (`root`, e.g. an image's), optionally on another `node`.
 */
export function startService(
  name: 'gateway' | 'chatd' | 'console',
  env: Record<string, string>,
  options: { root?: string; node?: string } = {},
): Promise<ServiceHandle> {
  return serviceProcess.startService(name, {
    root: options.root ?? REPO_ROOT,
    env: baseEnv(env),
    quiet: true,
    ...(options.node === undefined ? {} : { node: options.node }),
  });
}

export interface Stack {
  readonly chatd: ServiceHandle;
  readonly gateway: ServiceHandle;
  readonly dir: string;
  readonly rosterPath: string;
  readonly sessionLogPath: string;
  stop(): Promise<void>;
}

let rosterCache: Promise<string> | undefined;

/** A small deterministic roster shared by the e2e tests (generated once per test process). */
export function sharedRoster(): Promise<string> {
  rosterCache ??= (async () => {
    const { generateRoster } = await import('@lakehouse/roster');
    const dir = mkdtempSync(path.join(tmpdir(), 'lakehouse-roster-'));
    const out = path.join(dir, 'roster.parquet');
    await generateRoster({ rows: 2000, out, seed: 7 });
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return out;
  })();
  return rosterCache;
}

/** chatd + gateway wired together, with a session log in a fresh temp dir. */
export async function startStack(
  options: {
    chatdEnv?: Record<string, string>;
    gatewayEnv?: Record<string, string>;
    env?: Record<string, string>;
  } = {},
): Promise<Stack> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lakehouse-e2e-'));
  const rosterPath = await sharedRoster();
  const sessionLogPath = path.join(dir, 'sessions.jsonl');
  const chatd = await startService('chatd', {
    ROSTER_PATH: rosterPath,
    ...options.env,
    ...options.chatdEnv,
  });
  const gateway = await startService('gateway', {
    ROSTER_PATH: rosterPath,
    CHATD_URL: chatd.url,
    SESSION_LOG_PATH: sessionLogPath,
    ...options.env,
    ...options.gatewayEnv,
  }).catch(async (error: unknown) => {
    await chatd.stop();
    throw error;
  });
  return {
    chatd,
    gateway,
    dir,
    rosterPath,
    sessionLogPath,
    async stop() {
      await gateway.stop();
      await chatd.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Parses a JSONL file into objects; a missing file reads as no rows. */
export function readJsonLines<T = Record<string, unknown>>(file: string): T[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);
}

/** A fill request the sim provider can answer, with a contract drawn from the shared roster. */
export async function fillRequest(
  model: string,
  extra: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const { sampleContract, WorkerLookup } = await import('@lakehouse/roster');
  const roster = await WorkerLookup.load(await sharedRoster());
  return {
    kind: 'fill',
    prompt: 'Staff the shift.',
    provider: 'sim',
    model,
    context: { target_count: 2, ...sampleContract(roster, 11) },
    ...extra,
  };
}

/** `npm start`'s script running as a new user runs it: free ports, its data under a temp dir. */
export interface NpmStart {
  readonly dataDir: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Ctrl-C, then SIGKILL if it is still up after 15 s; removes `dataDir`; its exit code. */
  stop(): Promise<number | null>;
}

/** Spawns `node scripts/start.mjs` with `env` on top of baseEnv(). */
export function spawnNpmStart(prefix: string, env: Record<string, string> = {}): NpmStart {
  const dataDir = mkdtempSync(path.join(tmpdir(), prefix));
  const fullEnv: Record<string, string | undefined> = {
    ...process.env,
    ...baseEnv(),
    ...env,
    LAKEHOUSE_DATA_DIR: dataDir,
    CHATD_PORT: '0',
    GATEWAY_PORT: '0',
    CONSOLE_PORT: '0',
  };
  // `npm start` picks its own session log and trace file under data/.
  delete fullEnv['SESSION_LOG_PATH'];
  delete fullEnv['LANGFUSE_TRACE_FILE'];
  const child = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: REPO_ROOT,
    env: fullEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    dataDir,
    output: () => output,
    async stop() {
      child.kill('SIGINT');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(killer);
      rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}
