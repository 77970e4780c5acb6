import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkerLookup } from '@lakehouse/roster';
import type { ChatProvider } from '../src/providers/chat-provider.js';
import { ProviderRegistry } from '../src/providers/provider-registry.js';
import { SimProvider } from '../src/providers/sim-provider.js';
import type { RunningApp } from './helpers.js';
import { postJson } from '@lakehouse/test-support';
import { chat, fencedJson, protocolPrompt, startApp, testConfig, testRoster } from './helpers.js';

const CONTRACT = {
  target_count: 2,
  city: 'Chicago',
  state: 'IL',
  role: 'forklift operator',
  client_id: 'C-1',
};

void describe('chatd HTTP API', () => {
  let app: RunningApp;
  before(async () => {
    app = await startApp({
      config: testConfig({
        BODY_LIMIT_BYTES: '2048',
        SECRET_KEY_FOR_TEST: 'sk-test-very-secret-0123456789',
        PROVIDERS: JSON.stringify([
          {
            name: 'router',
            type: 'openai',
            base_url: 'http://127.0.0.1:9/v1',
            api_key_env: 'SECRET_KEY_FOR_TEST',
          },
          { name: 'local', type: 'ollama' },
        ]),
      }),
    });
  });
  after(() => app.close());

  void it('POST /v1/chat with sim answers in chatd shape', async () => {
    const { status, body } = await postJson(`${app.url}/v1/chat`, {
      provider: 'sim',
      model: 'clean',
      messages: [{ role: 'user', content: protocolPrompt('fill', CONTRACT) }],
      temperature: 0.2,
      max_tokens: 512,
    });
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(body), ['provider', 'model', 'content', 'finish_reason', 'usage']);
    assert.equal(body['provider'], 'sim');
    assert.equal(body['model'], 'clean');
    assert.equal(body['finish_reason'], 'stop');
    const usage = body['usage'] as Record<string, number>;
    assert.ok((usage['input_tokens'] ?? 0) > 0 && (usage['output_tokens'] ?? 0) > 0);
    const artifact = fencedJson(body['content'] as string) as { fills: unknown[] };
    assert.equal(artifact.fills.length, 2);
  });

  void it('GET /v1/providers lists sim first with hosts, never keys or base URLs', async () => {
    const res = await fetch(`${app.url}/v1/providers`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.doesNotMatch(text, /sk-test-very-secret|api_key|SECRET_KEY_FOR_TEST/);
    assert.deepEqual(JSON.parse(text), {
      providers: [
        { name: 'sim', type: 'sim' },
        { name: 'router', type: 'openai', host: '127.0.0.1:9' },
        { name: 'local', type: 'ollama', host: '127.0.0.1:11434' },
      ],
    });
  });

  void it('unknown provider is a 404 listing the configured names', async () => {
    const { status, body } = await chat(app.url, 'nope', 'm', 'hi');
    assert.equal(status, 404);
    assert.equal(body['error'], 'unknown provider "nope"; configured: sim, router, local');
  });

  const badBodies: [string, unknown, RegExp][] = [
    ['invalid JSON', '{"provider":', /^invalid JSON body/],
    ['an array body', '[1,2]', /request body must be a JSON object/],
    [
      'missing provider',
      { model: 'm', messages: [{ role: 'user', content: 'x' }] },
      /^provider: required/,
    ],
    [
      'numeric provider',
      { provider: 1, model: 'm', messages: [{ role: 'user', content: 'x' }] },
      /^provider: expected a string, got 1/,
    ],
    [
      'missing model',
      { provider: 'sim', messages: [{ role: 'user', content: 'x' }] },
      /^model: required/,
    ],
    [
      'empty model',
      { provider: 'sim', model: ' ', messages: [{ role: 'user', content: 'x' }] },
      /^model: must not be empty/,
    ],
    ['missing messages', { provider: 'sim', model: 'm' }, /^messages: required/],
    [
      'messages not an array',
      { provider: 'sim', model: 'm', messages: 'hi' },
      /^messages: required, an array/,
    ],
    [
      'empty messages',
      { provider: 'sim', model: 'm', messages: [] },
      /^messages: must not be empty/,
    ],
    [
      'bad role',
      { provider: 'sim', model: 'm', messages: [{ role: 'bot', content: 'x' }] },
      /^messages\[0\]\.role: expected one of system, user, assistant, got "bot"/,
    ],
    [
      'non-string content',
      {
        provider: 'sim',
        model: 'm',
        messages: [
          { role: 'user', content: 'x' },
          { role: 'user', content: 5 },
        ],
      },
      /^messages\[1\]\.content: expected a string, got 5/,
    ],
    [
      'message not an object',
      { provider: 'sim', model: 'm', messages: ['hi'] },
      /^messages\[0\]: expected an object/,
    ],
    [
      'temperature too high',
      { provider: 'sim', model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: 2.5 },
      /^temperature: expected a number between 0 and 2, got 2.5/,
    ],
    [
      'temperature as string',
      {
        provider: 'sim',
        model: 'm',
        messages: [{ role: 'user', content: 'x' }],
        temperature: '0.2',
      },
      /^temperature: /,
    ],
    [
      'max_tokens zero',
      { provider: 'sim', model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: 0 },
      /^max_tokens: expected a positive integer, got 0/,
    ],
    [
      'max_tokens fractional',
      { provider: 'sim', model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: 1.5 },
      /^max_tokens: expected a positive integer/,
    ],
  ];
  for (const [what, body, expected] of badBodies) {
    void it(`rejects ${what} with 400 naming the problem`, async () => {
      const res = await postJson(`${app.url}/v1/chat`, body);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.match(String(res.body['error']), expected);
    });
  }

  void it('rejects a body without a JSON content type with 400', async () => {
    const res = await fetch(`${app.url}/v1/chat`, { method: 'POST', body: 'provider=sim' });
    assert.equal(res.status, 400);
    assert.match(
      ((await res.json()) as { error: string }).error,
      /Content-Type: application\/json/,
    );
  });

  void it('rejects a body over BODY_LIMIT_BYTES with 413', async () => {
    const res = await postJson(`${app.url}/v1/chat`, {
      provider: 'sim',
      model: 'm',
      messages: [{ role: 'user', content: 'x'.repeat(4096) }],
    });
    assert.equal(res.status, 413);
    assert.equal(res.body['error'], 'request body exceeds 2048 bytes (BODY_LIMIT_BYTES)');
  });

  void it('unknown routes are a JSON 404', async () => {
    const res = await fetch(`${app.url}/v1/nothing`);
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: 'no route for GET /v1/nothing' });
  });

  void it('GET /healthz and /readyz are 200 with a loaded roster', async () => {
    const h = await fetch(`${app.url}/healthz`);
    assert.equal(h.status, 200);
    assert.deepEqual(await h.json(), { status: 'ok' });
    const r = await fetch(`${app.url}/readyz`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), {
      status: 'ready',
      roster: { size: 9 },
    });
  });

  void it('GET /metrics answers Prometheus text', async () => {
    const res = await fetch(`${app.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  });
});

void describe('chatd without a roster', () => {
  void it('/readyz is 503 with the reason; sim fill is 502; email still works', async () => {
    const roster = await WorkerLookup.load('/nonexistent/dir/roster.parquet', {
      logger: { warn: () => undefined },
    });
    const app = await startApp({ roster });
    try {
      const r = await fetch(`${app.url}/readyz`);
      assert.equal(r.status, 503);
      const body = (await r.json()) as { status: string; reason: string };
      assert.equal(body.status, 'not ready');
      assert.equal(body.reason, 'roster not loaded: roster file not found');
      // The path is the operator's business (in the log), not an anonymous client's.
      assert.doesNotMatch(JSON.stringify(body), /nonexistent/);

      const fill = await postJson(`${app.url}/v1/chat`, {
        provider: 'sim',
        model: 'clean',
        messages: [{ role: 'user', content: protocolPrompt('fill', CONTRACT) }],
      });
      assert.equal(fill.status, 502);
      assert.match(String(fill.body['error']), /roster not loaded/);

      const email = await postJson(`${app.url}/v1/chat`, {
        provider: 'sim',
        model: 'clean',
        messages: [{ role: 'user', content: protocolPrompt('email', {}) }],
      });
      assert.equal(email.status, 200);
    } finally {
      await app.close();
    }
  });
});

void describe('chatd deadlines and failures', () => {
  const hanging: ChatProvider = {
    name: 'hang',
    type: 'openai',
    // Ignores its signal on purpose: the deadline must still win.
    chat: () => new Promise(() => undefined),
  };
  const crashing: ChatProvider = {
    name: 'crash',
    type: 'openai',
    chat: () => Promise.reject(new Error('socket exploded')),
  };

  void it('a provider that outlives PROVIDER_TIMEOUT_MS is a 504 within the deadline', async () => {
    const roster = testRoster();
    const app = await startApp({
      config: testConfig({ PROVIDER_TIMEOUT_MS: '150' }),
      roster,
      providers: new ProviderRegistry([new SimProvider({ roster }), hanging, crashing]),
    });
    try {
      // The provider never settles: only chatd's own 150 ms deadline can produce this answer.
      const res = await chat(app.url, 'hang', 'm');
      assert.equal(res.status, 504);
      assert.equal(res.body['error'], 'provider "hang" timed out after 150 ms');

      const crash = await chat(app.url, 'crash', 'm');
      assert.equal(crash.status, 502);
      assert.equal(crash.body['error'], 'provider "crash" failed: socket exploded');
    } finally {
      await app.close();
    }
  });

  void it('an unexpected error is a 500 with a generic body', async () => {
    class BrokenRegistry extends ProviderRegistry {
      override get(): undefined {
        throw new Error('secret internal detail');
      }
    }
    const app = await startApp({ providers: new BrokenRegistry([]) });
    try {
      const res = await chat(app.url, 'sim', 'm');
      assert.equal(res.status, 500);
      assert.deepEqual(res.body, { error: 'internal server error' });
    } finally {
      await app.close();
    }
  });

  void it('sim latency past the deadline is a 504', async () => {
    const app = await startApp({
      config: testConfig({ PROVIDER_TIMEOUT_MS: '100', SIM_LATENCY_MS: '10000' }),
    });
    try {
      const res = await chat(app.url, 'sim', 'clean');
      assert.equal(res.status, 504);
      assert.equal(res.body['error'], 'provider "sim" timed out after 100 ms');
    } finally {
      await app.close();
    }
  });
});
