import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULT_SERVER_LIMITS } from '@lakehouse/telemetry';
import fc from 'fast-check';
import { credentialName, secretShapes } from '@lakehouse/test-support';
import { loadConfig } from '../src/config.js';

function fails(env: Record<string, string>, variable: string, message: RegExp): void {
  assert.throws(
    () => loadConfig(env),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.variable, variable);
      assert.ok(err.message.startsWith(`${variable}: `), err.message);
      assert.match(err.message, message);
      return true;
    },
  );
}

/** An environment whose PROVIDERS is one openai provider "a" at `baseUrl`. */
function openaiProviderEnv(baseUrl: string): Record<string, string> {
  return { PROVIDERS: JSON.stringify([{ name: 'a', type: 'openai', base_url: baseUrl }]) };
}

/** Asserts `baseUrl` is refused as carrying credentials, the message containing none of `hidden`. */
function refusesCredentialBaseUrl(baseUrl: string, hidden: string[]): void {
  assert.throws(
    () => loadConfig(openaiProviderEnv(baseUrl)),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.variable === 'PROVIDERS[0].base_url' &&
      /must not carry credentials/.test(err.message) &&
      hidden.every((h) => !err.message.includes(h)),
    baseUrl,
  );
}

void describe('loadConfig', () => {
  void it('applies the documented defaults to an empty environment', () => {
    assert.deepEqual(loadConfig({}), {
      port: 4120,
      host: '127.0.0.1',
      rosterPath: 'data/roster.parquet',
      bodyLimitBytes: 1_048_576,
      providerTimeoutMs: 120_000,
      providers: [],
      upstreamBytesInFlight: 256 * 1024 * 1024,
      simPhantomRate: 0.3,
      simLatencyMs: 0,
      logLevel: 'info',
      contentCapture: true,
      server: DEFAULT_SERVER_LIMITS,
    });
  });

  void it('reads every variable; PORT 0 is allowed and empty strings mean unset', () => {
    const c = loadConfig({
      PORT: '0',
      HOST: '0.0.0.0',
      ROSTER_PATH: '/data/r.csv',
      BODY_LIMIT_BYTES: '100',
      PROVIDER_TIMEOUT_MS: '5000',
      SIM_PHANTOM_RATE: '1',
      SIM_LATENCY_MS: '25',
      UPSTREAM_BYTES_IN_FLIGHT: '1048576',
      LOG_LEVEL: 'DEBUG',
      CONTENT_CAPTURE: 'no',
      PROVIDERS: '',
    });
    assert.equal(c.contentCapture, false);
    assert.equal(c.port, 0);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.rosterPath, '/data/r.csv');
    assert.equal(c.bodyLimitBytes, 100);
    assert.equal(c.providerTimeoutMs, 5000);
    assert.equal(c.simPhantomRate, 1);
    assert.equal(c.simLatencyMs, 25);
    assert.equal(c.upstreamBytesInFlight, 1_048_576);
    assert.equal(c.logLevel, 'debug');
    assert.deepEqual(c.providers, []);
  });

  void it('parses PROVIDERS and resolves api_key_env', () => {
    const c = loadConfig({
      OR_KEY: 'k-123',
      PROVIDERS: JSON.stringify([
        {
          name: 'openrouter',
          type: 'openai',
          base_url: 'https://openrouter.ai/api/v1/',
          api_key_env: 'OR_KEY',
          timeout_ms: 60000,
          max_retries: 1,
        },
        { name: 'ollama', type: 'ollama' },
      ]),
    });
    assert.deepEqual(c.providers, [
      {
        name: 'openrouter',
        type: 'openai',
        baseUrl: 'https://openrouter.ai/api/v1',
        apiKeyEnv: 'OR_KEY',
        apiKey: 'k-123',
        timeoutMs: 60000,
        maxRetries: 1,
      },
      { name: 'ollama', type: 'ollama', baseUrl: 'http://127.0.0.1:11434' },
    ]);
  });

  void it('names the variable of each bad scalar value', () => {
    fails({ PORT: 'abc' }, 'PORT', /expected an integer, got "abc"/);
    fails({ PORT: '70000' }, 'PORT', /between 0 and 65535/);
    fails({ BODY_LIMIT_BYTES: '0' }, 'BODY_LIMIT_BYTES', /between 1 and/);
    fails({ UPSTREAM_BYTES_IN_FLIGHT: '0' }, 'UPSTREAM_BYTES_IN_FLIGHT', /between 1 and/);
    fails({ UPSTREAM_BYTES_IN_FLIGHT: '1e6' }, 'UPSTREAM_BYTES_IN_FLIGHT', /expected an integer/);
    fails({ PROVIDER_TIMEOUT_MS: '-5' }, 'PROVIDER_TIMEOUT_MS', /expected an integer/);
    fails({ SIM_PHANTOM_RATE: '1.5' }, 'SIM_PHANTOM_RATE', /between 0 and 1/);
    fails({ SIM_PHANTOM_RATE: 'lots' }, 'SIM_PHANTOM_RATE', /expected a number/);
    fails({ SIM_LATENCY_MS: '1.5' }, 'SIM_LATENCY_MS', /expected an integer/);
    fails({ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /expected one of error, warn, info/);
    // A typo must not silently mean "on" (it used to).
    fails({ CONTENT_CAPTURE: 'maybe' }, 'CONTENT_CAPTURE', /expected true or false/);
  });

  void it('names PROVIDERS (and the entry field) for bad provider configuration', () => {
    fails({ PROVIDERS: '[{' }, 'PROVIDERS', /not valid JSON/);
    fails({ PROVIDERS: '{}' }, 'PROVIDERS', /expected a JSON array/);
    fails({ PROVIDERS: '[1]' }, 'PROVIDERS[0]', /expected an object/);
    fails(
      { PROVIDERS: '[{"type":"openai","base_url":"http://x"}]' },
      'PROVIDERS[0].name',
      /required/,
    );
    fails(
      { PROVIDERS: '[{"name":"a","type":"anthropic","base_url":"http://x"}]' },
      'PROVIDERS[0].type',
      /one of openai, ollama/,
    );
    fails(
      { PROVIDERS: '[{"name":"a","type":"openai"}]' },
      'PROVIDERS[0].base_url',
      /http\(s\) URL/,
    );
    fails(
      { PROVIDERS: '[{"name":"a","type":"openai","base_url":"ftp://x"}]' },
      'PROVIDERS[0].base_url',
      /http\(s\) URL/,
    );
    fails(
      { PROVIDERS: '[{"name":"sim","type":"openai","base_url":"http://x"}]' },
      'PROVIDERS[0].name',
      /reserved/,
    );
    fails(
      { PROVIDERS: '[{"name":"a","type":"ollama"},{"name":"a","type":"ollama"}]' },
      'PROVIDERS[1].name',
      /duplicate provider name "a"/,
    );
    fails(
      { PROVIDERS: '[{"name":"a","type":"ollama","timeout_ms":0}]' },
      'PROVIDERS[0].timeout_ms',
      /positive integer/,
    );
    fails(
      { PROVIDERS: '[{"name":"a","type":"ollama","apikey":"x"}]' },
      'PROVIDERS[0].apikey',
      /unknown field/,
    );
  });

  void it('refuses credentials in base_url without echoing them', () => {
    for (const base of [
      'https://user:hunter2secret@api.example.com/v1',
      'https://hunter2secret@api.example.com/v1',
      'https://api.example.com/v1?api_key=hunter2secret',
      'https://generativelanguage.googleapis.com/v1beta/openai?key=hunter2secret',
      'https://api.example.com/v1?x=1&ACCESS_TOKEN=hunter2secret',
    ]) {
      refusesCredentialBaseUrl(base, ['hunter2secret']);
    }
    // The one query parameter allowed: Azure OpenAI's api-version.
    const ok = loadConfig(openaiProviderEnv('https://x.example.com/v1?api-version=2024-10-21'));
    assert.equal(ok.providers[0]?.baseUrl, 'https://x.example.com/v1?api-version=2024-10-21');
  });

  void it('refuses every base_url that could carry a credential (generated), never echoing it', () => {
    const value = fc.stringMatching(/^[A-Za-z0-9_-]{8,24}$/).map((v) => `Zq${v}`);
    // Any parameter name but api-version, in the spellings a deny-list misses.
    const name = fc.oneof(
      credentialName,
      fc.stringMatching(/^[a-z][a-z0-9_]{0,12}$/).filter((n) => n !== 'api-version'),
    );
    const mangled = fc.tuple(name, fc.constantFrom('', '%20', '[]', '.', '%5B%5D', '+', '_'));
    const base = fc.constantFrom(
      'https://api.example.com/v1',
      'http://127.0.0.1:1',
      'http://h:8/x/',
    );
    const url = fc.oneof(
      fc.tuple(base, mangled, value).map(([b, [n, m], v]) => `${b}?${n}${m}=${v}`),
      fc.tuple(base, mangled, value).map(([b, [n, m], v]) => `${b}?api-version=1&${n}${m}=${v}`),
      fc.tuple(base, mangled, value).map(([b, [n, m], v]) => `${b}#${n}${m}=${v}`),
      fc.tuple(base, value).map(([b, v]) => `${b}#${v}`),
      fc.tuple(value, value).map(([u, p]) => `https://${u}:${p}@api.example.com/v1`),
      fc.tuple(base, secretShapes).map(([b, { secret }]) => `${b.replace(/\/$/, '')}/${secret}/v1`),
    );
    fc.assert(
      fc.property(url, (baseUrl) => {
        refusesCredentialBaseUrl(baseUrl, ['Zq', baseUrl]);
      }),
      { numRuns: 400 },
    );
  });

  void it('accepts the base URLs real providers use', () => {
    for (const base of [
      'https://api.openai.com/v1',
      'https://openrouter.ai/api/v1',
      'http://127.0.0.1:11434',
      'http://localhost:1234/v1',
      'https://myres.openai.azure.com/openai/deployments/gpt-4o?api-version=2024-10-21',
      'https://api.moonshot.ai/v1/',
    ]) {
      const env = openaiProviderEnv(base);
      assert.equal(loadConfig(env).providers.length, 1, base);
    }
  });

  void it('names the unset variable an api_key_env points at', () => {
    fails(
      {
        PROVIDERS:
          '[{"name":"openrouter","type":"openai","base_url":"https://openrouter.ai/api/v1","api_key_env":"OPENROUTER_API_KEY"}]',
      },
      'OPENROUTER_API_KEY',
      /environment variable is not set \(named by PROVIDERS\[0\]\.api_key_env for provider "openrouter"\)/,
    );
  });
});
