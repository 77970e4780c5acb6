import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningApp } from './helpers.js';
import { requestJson, sendJson, startStubServer } from '@lakehouse/test-support';
import { chat, chatExpecting, startApp, testConfig } from './helpers.js';

void describe('Ollama native provider (official ollama client) against a local /api/chat stub', () => {
  let stub: Awaited<ReturnType<typeof startStubServer>>;
  let app: RunningApp;

  before(async () => {
    stub = await startStubServer((req, res) => {
      const model = String(requestJson(req)['model']);
      if (model === 'missing') {
        sendJson(res, 404, { error: `model "${model}" not found, try pulling it first` });
      } else if (model === 'broken') {
        sendJson(res, 500, { error: 'llama runner process has terminated' });
      } else if (model === 'hang') {
        // Never answers.
      } else {
        sendJson(res, 200, {
          model,
          created_at: '2026-01-01T00:00:00Z',
          message: { role: 'assistant', content: 'Hi from ollama.' },
          done: true,
          done_reason: 'stop',
          total_duration: 1,
          load_duration: 1,
          prompt_eval_count: 26,
          prompt_eval_duration: 1,
          eval_count: 5,
          eval_duration: 1,
        });
      }
    });
    app = await startApp({
      config: testConfig({
        PROVIDER_TIMEOUT_MS: '300',
        OLLAMA_KEY: 'ollama-key-0123456789',
        PROVIDERS: JSON.stringify([
          { name: 'ollama', type: 'ollama', base_url: stub.url },
          { name: 'cloud', type: 'ollama', base_url: stub.url, api_key_env: 'OLLAMA_KEY' },
          { name: 'down', type: 'ollama', base_url: 'http://127.0.0.1:1' },
        ]),
      }),
    });
  });
  after(async () => {
    await app.close();
    await stub.close();
  });

  void it('posts /api/chat with stream:false and options; usage from prompt_eval_count/eval_count', async () => {
    const messages = [{ role: 'user', content: 'Say hi.' }];
    const req = await chatExpecting(
      app.url,
      stub,
      { provider: 'ollama', model: 'llama3.2', messages, temperature: 0.1, max_tokens: 32 },
      {
        model: 'llama3.2',
        content: 'Hi from ollama.',
        finish_reason: 'stop',
        usage: { input_tokens: 26, output_tokens: 5 },
      },
    );
    assert.equal(req.path, '/api/chat');
    assert.equal(requestJson(req)['model'], 'llama3.2');
    assert.equal(requestJson(req)['stream'], false);
    assert.deepEqual(requestJson(req)['messages'], messages);
    assert.deepEqual(requestJson(req)['options'], { temperature: 0.1, num_predict: 32 });
    assert.equal(req.headers['authorization'], undefined);
  });

  void it('sends a bearer key when api_key_env is configured', async () => {
    const res = await chat(app.url, 'cloud', 'm');
    assert.equal(res.status, 200);
    assert.equal(stub.requests.at(-1)?.headers['authorization'], 'Bearer ollama-key-0123456789');
  });

  void it('upstream 4xx and 5xx are 502 naming the provider and status', async () => {
    const missing = await chat(app.url, 'ollama', 'missing');
    assert.equal(missing.status, 502);
    assert.equal(
      missing.body['error'],
      'provider "ollama" returned HTTP 404: model "missing" not found, try pulling it first',
    );
    const broken = await chat(app.url, 'ollama', 'broken');
    assert.equal(broken.status, 502);
    assert.equal(
      broken.body['error'],
      'provider "ollama" returned HTTP 500: llama runner process has terminated',
    );
  });

  void it('an upstream that hangs is a 504 within PROVIDER_TIMEOUT_MS', async () => {
    // The message names the 300 ms deadline: chatd gave up at its timeout, not the upstream.
    const res = await chat(app.url, 'ollama', 'hang');
    assert.equal(res.status, 504);
    assert.equal(res.body['error'], 'provider "ollama" timed out after 300 ms');
  });

  void it('an unreachable upstream is a 502 saying so', async () => {
    const res = await chat(app.url, 'down', 'm');
    assert.equal(res.status, 502);
    assert.match(
      String(res.body['error']),
      /^provider "down" unreachable \(127\.0\.0\.1:1\): fetch failed/,
    );
  });
});
