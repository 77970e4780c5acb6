import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkerLookup } from '@lakehouse/roster';
import type { Worker } from '@lakehouse/roster';
import winston from 'winston';
import { postJson } from '@lakehouse/test-support';
import type { StubRequest, StubServer } from '@lakehouse/test-support';
import { createApp } from '../src/app.js';
import type { ChatdDeps } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { ChatdConfig } from '../src/config.js';

/** A roster with a well-staffed contract (Chicago/IL/forklift operator), inactive and blacklisting workers. */
export function testWorkers(): Worker[] {
  const workers: Worker[] = [];
  const add = (
    id: number,
    name: string,
    city: string,
    state: string,
    role: string,
    availability: number,
    bl: string[] = [],
  ): void => {
    workers.push({
      workerId: String(id),
      candidateId: `W-${id}`,
      name,
      role,
      city,
      state,
      availability,
      blacklistedClients: bl,
    });
  };
  add(1, 'Ana Lopez', 'Chicago', 'IL', 'forklift operator', 5);
  add(2, 'Ben Okafor', 'Chicago', 'IL', 'forklift operator', 0); // inactive
  add(3, 'Cara Kim', 'Chicago', 'IL', 'forklift operator', 3, ['C-9']); // blacklisted C-9
  add(4, 'Dev Patel', 'Chicago', 'IL', 'forklift operator', 2);
  add(5, 'Eve Müller', 'Chicago', 'IL', 'forklift operator', 4);
  add(6, 'Finn Lee', 'Houston', 'TX', 'welder', 5);
  add(7, 'Gia Chen', 'Chicago', 'IL', 'welder', 5);
  add(8, 'Hal Brown', 'Chicago', 'IL', 'forklift operator', 1);
  add(9, 'Ivy Nguyen', 'Chicago', 'IL', 'forklift operator', 6);
  return workers;
}

/** A ready in-memory roster of {@link testWorkers}. */
export function testRoster(): WorkerLookup {
  return WorkerLookup.fromWorkers(testWorkers(), 'test-roster');
}

/** A winston logger that writes nothing. */
export function silentLogger(): winston.Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console()] });
}

/** Config from `env` on top of an empty environment (never the real one). */
export function testConfig(env: Record<string, string> = {}): ChatdConfig {
  return loadConfig({ PORT: '0', ...env });
}

/** A running chatd on 127.0.0.1:0. */
export interface RunningApp {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Starts `createApp(deps)` on an ephemeral port. */
export async function startApp(partial: Partial<ChatdDeps> = {}): Promise<RunningApp> {
  const app = createApp({
    config: partial.config ?? testConfig(),
    logger: partial.logger ?? silentLogger(),
    roster: partial.roster ?? testRoster(),
    ...(partial.providers !== undefined ? { providers: partial.providers } : {}),
    ...(partial.upstreamBudget !== undefined ? { upstreamBudget: partial.upstreamBudget } : {}),
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return wrap(server);
}

/** Wraps a listening server with its URL and a close that also drops idle keep-alive sockets. */
export function wrap(server: Server): RunningApp {
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** `POST {url}/v1/chat` with one user message. */
export function chat(
  url: string,
  provider: string,
  model: string,
  content = 'x',
): ReturnType<typeof postJson> {
  return postJson(`${url}/v1/chat`, { provider, model, messages: [{ role: 'user', content }] });
}

/**
 * `POST {url}/v1/chat` with `request`; asserts a 200 whose body is exactly `answer` plus the
 * requested provider, and returns the request `stub` then received last (for the caller's
 * assertions on what was sent upstream).
 */
export async function chatExpecting(
  url: string,
  stub: StubServer,
  request: { provider: string } & Record<string, unknown>,
  answer: Record<string, unknown>,
): Promise<StubRequest> {
  const res = await postJson(`${url}/v1/chat`, request);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(res.body, { provider: request.provider, ...answer });
  return lastRequest(stub);
}

/** The last request `stub` received; fails the test when there was none. */
export function lastRequest(stub: StubServer): StubRequest {
  const req = stub.requests.at(-1);
  if (req === undefined) throw new Error('the stub received no request');
  return req;
}

const HINTS: Record<string, string> = {
  fill: '{"fills":[{"candidate_id":"W-…","name":"…"}]}',
  email: '{"to":"…","subject":"…","body":"…"}',
  playbook: '{"title":"…","steps":["…"]}',
};

/** `prompt_0` exactly as docs/architecture.md "Prompt protocol" defines it. */
export function protocolPrompt(
  kind: string,
  context: Record<string, unknown>,
  prompt = 'Staff the contract.',
): string {
  return `${prompt}\n\nArtifact kind: ${kind}\nContract: ${JSON.stringify(context)}\nRespond with exactly one JSON object: ${HINTS[kind] ?? '{}'}`;
}

/** The validator-rejection feedback appended on retry. */
export function rejectedFeedback(messages: string[]): string {
  return `\n\nYour previous response was rejected: ${messages.join('; ')}. Fix every problem and respond with the corrected JSON object only.`;
}

/** The no-JSON feedback appended on retry. */
export const NO_JSON_FEEDBACK =
  "\n\nYour response wasn't valid JSON. Respond with exactly one JSON object.";

/** The JSON inside the first ```json fence, or undefined when there is none. */
export function fencedJson(text: string): unknown {
  const m = /```json\n([\s\S]*?)\n```/.exec(text);
  return m?.[1] === undefined ? undefined : JSON.parse(m[1]);
}
