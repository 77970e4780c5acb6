// Cross-service test harness: starts the real services with their production start command.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ChildProcess } from 'node:child_process';

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
    options: { root: string; env?: Record<string, string>; quiet?: boolean },
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

/** Starts one service quietly with the given env on top of baseEnv(). */
export function startService(
  name: 'gateway' | 'chatd' | 'console',
  env: Record<string, string>,
): Promise<ServiceHandle> {
  return serviceProcess.startService(name, { root: REPO_ROOT, env: baseEnv(env), quiet: true });
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

/** POST JSON and return status, headers and the parsed body. */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { raw: text };
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
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

/** A loopback port that was free a moment ago (nothing listens on it when this resolves). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A fill request the sim provider can answer, with a contract drawn from the shared roster. */
export async function fillRequest(
  model: string,
  extra: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const { WorkerLookup } = await import('@lakehouse/roster');
  const roster = await WorkerLookup.load(await sharedRoster());
  return {
    kind: 'fill',
    prompt: 'Staff the shift.',
    provider: 'sim',
    model,
    context: { target_count: 2, ...roster.sampleContract(11) },
    ...extra,
  };
}
