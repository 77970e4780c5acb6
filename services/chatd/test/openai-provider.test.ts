import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningApp } from './helpers.js';
import { postJson, requestJson, sendJson, startStubServer } from '@lakehouse/test-support';
import { chat, lastRequest, startApp, testConfig } from './helpers.js';

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
    const res = await postJson(`${app.url}/v1/chat`, {
      provider: 'stub',
      model: 'gpt-x',
      messages,
      temperature: 0.7,
      max_tokens: 64,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, {
      provider: 'stub',
      model: 'gpt-x-2026-01-01',
      content: 'Hello from the stub.',
      finish_reason: 'length',
      usage: { input_tokens: 42, output_tokens: 7 },
    });
    const req = lastRequest(stub);
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
    const started = Date.now();
    const res = await chat(app.url, 'stub', 'hang');
    const elapsed = Date.now() - started;
    assert.equal(res.status, 504);
    assert.equal(res.body['error'], 'provider "stub" timed out after 300 ms');
    assert.ok(elapsed < 2_000, `took ${elapsed} ms`);
  });

  void it('an unreachable upstream is a 502 saying so', async () => {
    const res = await chat(app.url, 'down', 'm');
    assert.equal(res.status, 502);
    assert.match(
      String(res.body['error']),
      /^provider "down" unreachable at http:\/\/127\.0\.0\.1:1\/v1/,
    );
  });
});
