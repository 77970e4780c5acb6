import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningApp } from './helpers.js';
import { requestJson, sendJson, startStubServer } from '@lakehouse/test-support';
import { chat, chatExpecting, lastRequest, startApp, testConfig } from './helpers.js';

const KEY = 'sk-or-v1-abcdef0123456789SECRET';

void describe('OpenAI-compatible provider (official openai client) against a local stub', () => {
  let stub: Awaited<ReturnType<typeof startStubServer>>;
  let app: RunningApp;

  before(async () => {
    stub = await startStubServer((req, res) => {
      const model = String(requestJson(req)['model']);
      if (model === 'unauthorized') {
        // Real upstreams echo (part of) the key; chatd must not pass it on.
        sendJson(res, 401, {
          error: {
            message: `Incorrect API key provided: ${KEY}`,
            type: 'invalid_request_error',
            code: 'invalid_api_key',
          },
        });
      } else if (model === 'broken') {
        sendJson(res, 500, { error: { message: 'upstream exploded', type: 'server_error' } });
      } else if (model === 'unavailable') {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('model is loading');
      } else if (model === 'hang') {
        // Never answers.
      } else {
        sendJson(res, 200, {
          id: 'chatcmpl-1',
          object: 'chat.completion',
          created: 1_700_000_000,
          model: `${model}-2026-01-01`,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: 'Hello from the stub.' },
              finish_reason: 'length',
            },
          ],
          usage: { prompt_tokens: 42, completion_tokens: 7, total_tokens: 49 },
        });
      }
    });
    app = await startApp({
      config: testConfig({
        PROVIDER_TIMEOUT_MS: '300',
        STUB_KEY: KEY,
        PROVIDERS: JSON.stringify([
          {
            name: 'stub',
            type: 'openai',
            base_url: `${stub.url}/v1`,
            api_key_env: 'STUB_KEY',
            max_retries: 0,
          },
          { name: 'keyless', type: 'openai', base_url: `${stub.url}/v1`, max_retries: 0 },
          { name: 'down', type: 'openai', base_url: 'http://127.0.0.1:1/v1', max_retries: 0 },
        ]),
      }),
    });
  });
  after(async () => {
    await app.close();
    await stub.close();
  });

  void it('sends model, messages, temperature, max_tokens and the bearer key; parses the answer', async () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Say hello.' },
    ];
    const req = await chatExpecting(
      app.url,
      stub,
      { provider: 'stub', model: 'gpt-x', messages, temperature: 0.7, max_tokens: 64 },
      {
        model: 'gpt-x-2026-01-01',
        content: 'Hello from the stub.',
        finish_reason: 'length',
        usage: { input_tokens: 42, output_tokens: 7 },
      },
    );
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/v1/chat/completions');
    assert.equal(req.headers['authorization'], `Bearer ${KEY}`);
    assert.equal(requestJson(req)['model'], 'gpt-x');
    assert.deepEqual(requestJson(req)['messages'], messages);
    assert.equal(requestJson(req)['temperature'], 0.7);
    assert.equal(requestJson(req)['max_tokens'], 64);
    assert.equal(requestJson(req)['stream'], undefined);
  });

  void it('omits temperature and max_tokens when the caller does', async () => {
    const res = await chat(app.url, 'keyless', 'm');
    assert.equal(res.status, 200);
    const req = lastRequest(stub);
    assert.equal('temperature' in requestJson(req), false);
    assert.equal('max_tokens' in requestJson(req), false);
    assert.equal(req.headers['authorization'], 'Bearer no-key');
  });

  void it('an upstream 4xx is a 502 naming the provider and status, without the key', async () => {
    const res = await chat(app.url, 'stub', 'unauthorized');
    assert.equal(res.status, 502);
    const error = String(res.body['error']);
    assert.match(error, /^provider "stub" returned HTTP 401: /);
    assert.match(error, /Incorrect API key provided: \[redacted\]/);
    assert.doesNotMatch(JSON.stringify(res.body), /SECRET|sk-or-v1/);
  });

  void it('an upstream 5xx is a 502 naming the provider and status', async () => {
    const res = await chat(app.url, 'stub', 'broken');
    assert.equal(res.status, 502);
    assert.equal(res.body['error'], 'provider "stub" returned HTTP 500: upstream exploded');
    const plain = await chat(app.url, 'stub', 'unavailable');
    assert.equal(plain.status, 502);
    assert.match(String(plain.body['error']), /^provider "stub" returned HTTP 503/);
  });

  void it('an upstream that hangs is a 504 within PROVIDER_TIMEOUT_MS', async () => {
    // The stub never answers: only chatd's own 300 ms deadline can produce this answer.
    const res = await chat(app.url, 'stub', 'hang');
    assert.equal(res.status, 504);
    assert.equal(res.body['error'], 'provider "stub" timed out after 300 ms');
  });

  void it('an unreachable upstream is a 502 saying so', async () => {
    const res = await chat(app.url, 'down', 'm');
    assert.equal(res.status, 502);
    assert.match(String(res.body['error']), /^provider "down" unreachable \(127\.0\.0\.1:1\)/);
  });
});

void describe("provider answers are read under a cap and refusals are the caller's", () => {
  void it('a body over maxResponseBytes is a 502 response_too_large, read once and never retried', async () => {
    const { OpenAIProvider } = await import('../src/providers/openai-provider.js');
    const { OllamaProvider } = await import('../src/providers/ollama-provider.js');
    const big = (res: Parameters<Parameters<typeof startStubServer>[0]>[1]) =>
      sendJson(res, 200, { model: 'm', message: { content: 'x'.repeat(4096) }, choices: [] });
    const stub = await startStubServer((_req, res) => big(res));
    try {
      const providers = [
        new OpenAIProvider({
          name: 'o',
          baseUrl: `${stub.url}/v1`,
          maxRetries: 2,
          maxResponseBytes: 1024,
        }),
        new OllamaProvider({ name: 'l', baseUrl: stub.url, maxResponseBytes: 1024 }),
      ];
      for (const provider of providers) {
        const before = stub.requests.length;
        await assert.rejects(
          provider.chat(
            { model: 'm', messages: [{ role: 'user', content: 'x' }] },
            new AbortController().signal,
          ),
          (err: Error & { status?: number; errorType?: string }) => {
            assert.equal(err.status, 502);
            assert.equal(err.errorType, 'response_too_large');
            assert.match(err.message, /body over 1024 bytes/);
            return true;
          },
        );
        assert.equal(stub.requests.length - before, 1, `${provider.name}: one request, no retry`);
      }
    } finally {
      await stub.close();
    }
  });

  void it('an upstream 400/413/422 refusing the request is a 400 with its message', async () => {
    const { OpenAIProvider } = await import('../src/providers/openai-provider.js');
    const { OllamaProvider } = await import('../src/providers/ollama-provider.js');
    // Each wire format: OpenAI's {error:{message}}, Ollama's {error:"…"}.
    const stub = await startStubServer((req, res) =>
      sendJson(res, 400, {
        error: req.path.startsWith('/api/')
          ? 'max_tokens is too large: 9000000'
          : { message: 'max_tokens is too large: 9000000' },
      }),
    );
    try {
      for (const provider of [
        new OpenAIProvider({ name: 'o', baseUrl: `${stub.url}/v1`, maxRetries: 0 }),
        new OllamaProvider({ name: 'l', baseUrl: stub.url }),
      ]) {
        await assert.rejects(
          provider.chat(
            { model: 'm', messages: [{ role: 'user', content: 'x' }], maxTokens: 9_000_000 },
            new AbortController().signal,
          ),
          (err: Error & { status?: number }) => {
            assert.equal(err.status, 400, err.message);
            assert.match(
              err.message,
              /refused the request \(HTTP 400\): .*max_tokens is too large/,
            );
            return true;
          },
        );
      }
    } finally {
      await stub.close();
    }
  });
});
