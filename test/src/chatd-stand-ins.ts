// Stand-in chatds for e2e tests that drive a real gateway: one that holds its requests until told
// (faults-drain, faults-edge), and one that records every hop the gateway makes (trace headers).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { postJson, startStubServer } from '@lakehouse/test-support';
import type { StubServer } from '@lakehouse/test-support';
import { startService } from './harness.js';
import type { ServiceHandle } from './harness.js';

/** A valid email artifact, as the model text chatd answers with. */
export const EMAIL_CONTENT = '{"to":"a@b.c","subject":"s","body":"b"}';

/** Answers a chat request as chatd does: 200 with `content` from the sim provider's `model`. */
export function sendChatReply(res: http.ServerResponse, content: string, model: string): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(
    JSON.stringify({
      provider: 'sim',
      model,
      content,
      finish_reason: 'stop',
      usage: { input_tokens: 1, output_tokens: 1 },
    }),
  );
}

/** A stand-in chatd holding its requests until released (then answered with `EMAIL_CONTENT`). */
export interface HoldingChatd {
  stub: StubServer;
  /** How many requests it holds now. */
  held(): number;
  /** Answers every held request whose socket is still open; idempotent. */
  release(): void;
}

/** Starts a stand-in chatd that holds every request until `release()`. */
export async function startHoldingChatd(): Promise<HoldingChatd> {
  const waiting: http.ServerResponse[] = [];
  const stub = await startStubServer((_req, res) => waiting.push(res));
  return {
    stub,
    held: () => waiting.length,
    release: () => {
      for (const res of waiting.splice(0))
        if (!res.destroyed) sendChatReply(res, EMAIL_CONTENT, 'x');
    },
  };
}

/** One request the gateway made on a hop: its path and the headers it carried. */
export interface RecordedHop {
  path: string;
  headers: http.IncomingHttpHeaders;
}

/** A gateway whose hop requests are recorded on their way to the stand-in chatd or itself. */
export interface RecordedHops {
  gateway: ServiceHandle;
  /**
   * Runs one fill session for `contract` (client `headers` on the request); asserts it answered
   * 200 after exactly a chat hop then a validate hop, and returns its trace id and those hops.
   */
  iterateFill(
    contract: object,
    headers?: Record<string, string>,
  ): Promise<{ traceId: string; hops: RecordedHop[] }>;
  close(): Promise<void>;
}

const listen = (server: http.Server): Promise<string> =>
  new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );

/**
 * Starts a gateway (on `roster`) whose chat hop goes to a stand-in chatd answering `content`,
 * and whose validate hop goes through a proxy back to the gateway itself, both recording.
 */
export async function startRecordedHops(roster: string, content: string): Promise<RecordedHops> {
  const recorded: RecordedHop[] = [];
  const record = (req: http.IncomingMessage): void => {
    recorded.push({ path: req.url ?? '', headers: req.headers });
  };
  const chatd = http.createServer((req, res) => {
    record(req);
    req.resume();
    req.on('end', () => sendChatReply(res, content, 'm'));
  });
  let gatewayUrl = '';
  const proxy = http.createServer((req, res) => {
    record(req);
    const upstream = http.request(
      `${gatewayUrl}${req.url}`,
      { method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  const gateway = await startService('gateway', {
    ROSTER_PATH: roster,
    CHATD_URL: await listen(chatd),
    GATEWAY_SELF_URL: await listen(proxy),
  });
  gatewayUrl = gateway.url;
  return {
    gateway,
    async iterateFill(contract, headers = {}) {
      const first = recorded.length;
      const res = await postJson(
        `${gateway.url}/v1/iterate`,
        {
          kind: 'fill',
          prompt: 'p',
          provider: 'sim',
          model: 'm',
          context: { target_count: 1, ...contract },
        },
        headers,
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const hops = recorded.slice(first);
      assert.deepEqual(
        hops.map((h) => h.path),
        ['/v1/chat', '/v1/validate'],
      );
      return { traceId: String(res.body.trace_id), hops };
    },
    async close() {
      await gateway.stop();
      chatd.close();
      proxy.close();
    },
  };
}
