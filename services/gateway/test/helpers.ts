import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import winston from 'winston';
import type { SessionLog, SessionLogEntry, SessionLogStats } from '@lakehouse/session-log';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { GatewayConfig } from '../src/config.js';
import type { RosterView } from '../src/validators/types.js';
import { testRoster } from './fixtures.js';

/** A recorded `/v1/chat` request body. */
export interface ChatCall {
  provider: string;
  model: string;
  messages: { role: string; content: string }[];
  temperature?: number;
  max_tokens?: number;
}

/** What the stub answers: a reply text (200), an explicit status + body, or 'hang' (never answers). */
export type StubReply = string | { status: number; body: unknown } | 'hang';

/** A scripted chatd: `script(call, index)` decides each answer. */
export interface StubChatd {
  url: string;
  calls: ChatCall[];
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Starts a stub chatd on 127.0.0.1:0 speaking the `/v1/chat` wire format. */
export async function startStubChatd(
  script: (call: ChatCall, index: number) => StubReply,
): Promise<StubChatd> {
  const calls: ChatCall[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      if (req.method === 'GET' && req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
        return;
      }
      const call = (await readJson(req)) as ChatCall;
      calls.push(call);
      const reply = script(call, calls.length - 1);
      if (reply === 'hang') return;
      const { status, body } =
        typeof reply === 'string'
          ? {
              status: 200,
              body: {
                provider: call.provider,
                model: call.model,
                content: reply,
                finish_reason: 'stop',
                usage: { input_tokens: 10, output_tokens: 20 },
              },
            }
          : reply;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    })();
  });
  const url = await listen(server);
  return { url, calls, close: () => closeServer(server) };
}

/** A URL on which nothing listens (a port that was just released). */
export async function closedUrl(): Promise<string> {
  const server = createServer();
  const url = await listen(server);
  await closeServer(server);
  return url;
}

/** A SessionLog that records every emit. */
export class FakeSessionLog implements SessionLog {
  readonly enabled = true;
  readonly records: SessionLogEntry[] = [];
  emit(record: SessionLogEntry): void {
    this.records.push(structuredClone(record));
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
  stats(): SessionLogStats {
    const n = this.records.length;
    return { emitted: n, written: n, dropped: 0, failed: 0 };
  }
}

/** A running gateway app on 127.0.0.1:0. */
export interface TestGateway {
  url: string;
  sessionLog: FakeSessionLog;
  close(): Promise<void>;
}

/** Starts `createApp` with a silent logger, the test roster and a fake session log. */
export async function startGateway(
  env: Record<string, string>,
  options: { roster?: RosterView; logger?: winston.Logger } = {},
): Promise<TestGateway> {
  const config: GatewayConfig = { ...loadConfig(env), readinessTimeoutMs: 500 };
  const sessionLog = new FakeSessionLog();
  const logger = options.logger ?? winston.createLogger({ silent: true });
  const app = createApp({ config, logger, roster: options.roster ?? testRoster(), sessionLog });
  const server = createServer(app);
  const url = await listen(server);
  return { url, sessionLog, close: () => closeServer(server) };
}

/** POSTs JSON (or a raw string) and returns status, trace header and parsed body. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; traceHeader: string | null; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    traceHeader: res.headers.get('x-lakehouse-trace-id'),
    body: JSON.parse(text) as Record<string, unknown>,
  };
}

/** The user prompt of a recorded chat call. */
export function userPrompt(call: ChatCall | undefined): string {
  return call?.messages.find((m) => m.role === 'user')?.content ?? '';
}
