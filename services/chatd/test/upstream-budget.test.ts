import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { eventually } from '@lakehouse/test-support';
import type { JsonResponse } from '@lakehouse/test-support';
import { UpstreamByteBudget } from '../src/providers/upstream-budget.js';
import { chat, startApp, testConfig } from './helpers.js';

const CONTENT_BYTES = 300 * 1024;

// Each answer is ~300 KiB of JSON, written in two halves: the second halves wait until the test
// has seen the budget refuse a call, so the first halves of the burst are all held at once.
function answerFor(path: string): string {
  const content = 'x'.repeat(CONTENT_BYTES);
  return path.startsWith('/api/chat')
    ? JSON.stringify({
        model: 'm',
        message: { role: 'assistant', content },
        done: true,
        done_reason: 'stop',
        prompt_eval_count: 1,
        eval_count: 1,
      })
    : JSON.stringify({
        id: 'c',
        object: 'chat.completion',
        created: 0,
        model: 'm',
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      });
}

async function startHalvingUpstream(): Promise<{
  url: string;
  requests: () => number;
  sendRest: () => void;
  close: () => Promise<void>;
}> {
  const pending: (() => void)[] = [];
  let released = false;
  let count = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      count += 1;
      const body = Buffer.from(answerFor(req.url ?? ''));
      const half = body.subarray(0, body.length >> 1);
      res.on('error', () => undefined);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      res.write(half);
      const rest = (): void => void res.end(body.subarray(half.length));
      if (released) rest();
      else pending.push(rest);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => count,
    sendRest: () => {
      released = true;
      for (const rest of pending.splice(0)) rest();
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

void describe('the process-wide budget of upstream answer bytes', () => {
  void it('refuses calls past UPSTREAM_BYTES_IN_FLIGHT with 503, serves the rest, and gives every byte back', async () => {
    const upstream = await startHalvingUpstream();
    const config = testConfig({
      UPSTREAM_BYTES_IN_FLIGHT: String(1024 * 1024),
      PROVIDERS: JSON.stringify([
        { name: 'o', type: 'openai', base_url: `${upstream.url}/v1`, max_retries: 0 },
        { name: 'l', type: 'ollama', base_url: upstream.url },
      ]),
    });
    const budget = new UpstreamByteBudget(config.upstreamBytesInFlight);
    const app = await startApp({ config, upstreamBudget: budget });
    try {
      // 8 first halves (8 × 150 KiB) cannot all be held under 1 MiB.
      const answers: (JsonResponse | undefined)[] = [];
      const calls = Array.from({ length: 8 }, (_, i) =>
        chat(app.url, i % 2 === 0 ? 'o' : 'l', 'm').then((r) => {
          answers[i] = r;
          return r;
        }),
      );
      await eventually(
        () => (answers.some((r) => r?.status === 503) ? true : undefined),
        10_000,
        'a call refused by the budget',
      );
      upstream.sendRest();
      const settled = await Promise.all(calls);

      const refused = settled.filter((r) => r.status === 503);
      assert.ok(refused.length >= 1);
      for (const r of settled) {
        assert.ok(
          r.status === 200 || r.status === 503,
          `status ${r.status}: ${JSON.stringify(r.body)}`,
        );
      }
      for (const r of refused) {
        assert.match(
          String(r.body['error']),
          /^provider "[ol]" not read: chatd already holds its limit of 1048576 bytes of upstream answers \(UPSTREAM_BYTES_IN_FLIGHT\); retry later$/,
        );
      }
      assert.equal(budget.inFlightBytes, 0, 'every reserved byte released');

      // Nothing leaked: a lone call of each type fits again and is answered in full.
      for (const provider of ['o', 'l']) {
        const r = await chat(app.url, provider, 'm');
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(String(r.body['content']).length, CONTENT_BYTES);
      }
      assert.equal(budget.inFlightBytes, 0);
      assert.equal(upstream.requests(), 10, 'no refused call was retried');
    } finally {
      await app.close();
      await upstream.close();
    }
  });

  void it('a call alone over the budget is refused, not read to the end', async () => {
    const budget = new UpstreamByteBudget(1000);
    const { OpenAIProvider } = await import('../src/providers/openai-provider.js');
    const upstream = await startHalvingUpstream();
    upstream.sendRest();
    try {
      const provider = new OpenAIProvider({ name: 'o', baseUrl: `${upstream.url}/v1`, budget });
      await assert.rejects(
        provider.chat(
          { model: 'm', messages: [{ role: 'user', content: 'x' }] },
          new AbortController().signal,
        ),
        (err: Error & { status?: number; errorType?: string }) => {
          assert.equal(err.status, 503);
          assert.equal(err.errorType, 'upstream_bytes_in_flight');
          return true;
        },
      );
      assert.equal(budget.inFlightBytes, 0);
      assert.equal(upstream.requests(), 1, 'not retried');
    } finally {
      await upstream.close();
    }
  });
});
