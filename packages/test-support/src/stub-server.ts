// The one local HTTP stand-in for what cannot run here (an LLM provider, a scripted chatd).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a stub received, body read in full. */
export interface StubRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** A running stub: every request is recorded before `handle` answers it. */
export interface StubServer {
  readonly url: string;
  readonly requests: StubRequest[];
  close(): Promise<void>;
}

/** Options of {@link startStubServer}. */
export interface StubServerOptions {
  /** Answer `GET /healthz` with 200 `{"status":"ok"}` without calling `handle` (default true). */
  healthz?: boolean;
}

/** Listens on 127.0.0.1:0; `close` also drops idle keep-alive sockets. */
async function listenLocal(server: http.Server): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Starts a stub on 127.0.0.1:0; `handle` answers every request after its body has been read. */
export async function startStubServer(
  handle: (req: StubRequest, res: http.ServerResponse) => void,
  options: StubServerOptions = {},
): Promise<StubServer> {
  const requests: StubRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: StubRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(request);
      if (options.healthz !== false && request.method === 'GET' && request.path === '/healthz') {
        sendJson(res, 200, { status: 'ok' });
        return;
      }
      handle(request, res);
    });
  });
  return { ...(await listenLocal(server)), requests };
}

/** A recorded request's body parsed as a JSON object (`{}` when empty). Throws on bad JSON. */
export function requestJson(req: StubRequest): Record<string, unknown> {
  return req.body === '' ? {} : (JSON.parse(req.body) as Record<string, unknown>);
}

/** Writes a JSON response. */
export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** A recorded `/v1/chat` request body (chatd's wire format, SPEC §2). */
export interface ChatCall {
  provider: string;
  model: string;
  messages: { role: string; content: string }[];
  temperature?: number;
  max_tokens?: number;
}

/** What a stub chatd answers: a reply text (200), an explicit status + body, or 'hang'. */
export type StubReply = string | { status: number; body: unknown } | 'hang';

/** A scripted chatd speaking `/v1/chat`; `calls` are the parsed request bodies. */
export interface StubChatd extends StubServer {
  readonly calls: ChatCall[];
}

/** Starts a stub chatd on 127.0.0.1:0; `script(call, index)` decides each answer. */
export async function startStubChatd(
  script: (call: ChatCall, index: number) => StubReply,
): Promise<StubChatd> {
  const calls: ChatCall[] = [];
  const stub = await startStubServer((req, res) => {
    const call = JSON.parse(req.body) as ChatCall;
    calls.push(call);
    const reply = script(call, calls.length - 1);
    if (reply === 'hang') return;
    if (typeof reply !== 'string') {
      sendJson(res, reply.status, reply.body);
      return;
    }
    sendJson(res, 200, {
      provider: call.provider,
      model: call.model,
      content: reply,
      finish_reason: 'stop',
      usage: { input_tokens: 10, output_tokens: 20 },
    });
  });
  return { ...stub, calls };
}

/** The user prompt of a recorded chat call. */
export function userPrompt(call: ChatCall | undefined): string {
  return call?.messages.find((m) => m.role === 'user')?.content ?? '';
}

/** An OpenAI chat-completions answer (what an `openai`-type provider's upstream sends). */
export function openAiCompletion(model: string, content: string): Record<string, unknown> {
  return {
    id: 'c1',
    object: 'chat.completion',
    created: 1,
    model,
    choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content } }],
    usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 },
  };
}
