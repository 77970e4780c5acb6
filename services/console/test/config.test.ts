import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '@lakehouse/telemetry';
import { checkBindAddress, isLoopbackAddress, parseConsoleConfig } from '../src/config.js';

describe('console configuration', () => {
  it('defaults: loopback, port 4130, the data/ files, no Langfuse', () => {
    const config = parseConsoleConfig([], {});
    assert.deepEqual(config, {
      host: '127.0.0.1',
      port: 4130,
      allowRemote: false,
      sessionsPath: path.resolve('data/sessions.jsonl'),
      tracesPath: path.resolve('data/traces.jsonl'),
      memoryLimit: '1GB',
      langfuse: undefined,
    });
  });

  it('flags win over the environment; bad values name the flag or variable', () => {
    const config = parseConsoleConfig(['--sessions', '/x/s.jsonl', '--port', '0'], {
      SESSION_LOG_PATH: '/y',
      PORT: '9',
    });
    assert.ok(config !== 'help');
    assert.equal(config.sessionsPath, '/x/s.jsonl');
    assert.equal(config.port, 0);
    assert.throws(
      () => parseConsoleConfig([], { PORT: 'http' }),
      /^ConfigError: PORT: expected an integer, got "http"/,
    );
    assert.throws(
      () => parseConsoleConfig(['--port', '70000'], {}),
      /^ConfigError: --port: must be between 0 and 65535, got 70000/,
    );
    assert.throws(() => parseConsoleConfig(['--bogus'], {}), ConfigError);
    assert.throws(
      () => parseConsoleConfig([], { LANGFUSE_PUBLIC_KEY: 'pk' }),
      /LANGFUSE_SECRET_KEY is missing/,
    );
    assert.throws(
      () => parseConsoleConfig([], { CONSOLE_ALLOW_REMOTE: 'maybe' }),
      /^ConfigError: CONSOLE_ALLOW_REMOTE: expected true or false/,
    );
  });

  it('reads switches and Langfuse settings as the services do (telemetry’s readers, the processor’s Langfuse rules)', () => {
    for (const value of ['TRUE', 'true', 'Yes', '1', 'on']) {
      const config = parseConsoleConfig([], { CONSOLE_ALLOW_REMOTE: value });
      assert.ok(config !== 'help' && config.allowRemote, value);
    }
    for (const value of ['FALSE', 'no', '0', ' ']) {
      const config = parseConsoleConfig([], { CONSOLE_ALLOW_REMOTE: value });
      assert.ok(config !== 'help' && !config.allowRemote, value);
    }
    assert.throws(
      () => parseConsoleConfig([], { LANGFUSE_BASE_URL: 'notaurl' }),
      /LANGFUSE_BASE_URL: expected an http\(s\) URL, got "notaurl"/,
    );
    const keys = { LANGFUSE_PUBLIC_KEY: 'pk-lf-1', LANGFUSE_SECRET_KEY: 'sk-lf-1' };
    const host = parseConsoleConfig([], { ...keys, LANGFUSE_HOST: 'http://langfuse.local:3000/' });
    assert.ok(host !== 'help');
    assert.deepEqual(host.langfuse, {
      baseUrl: 'http://langfuse.local:3000',
      publicKey: 'pk-lf-1',
      secretKey: 'sk-lf-1',
    });
    const both = parseConsoleConfig([], {
      ...keys,
      LANGFUSE_HOST: 'http://host.invalid',
      LANGFUSE_BASE_URL: 'https://cloud.langfuse.com',
    });
    assert.ok(both !== 'help');
    assert.equal(both.langfuse?.baseUrl, 'https://cloud.langfuse.com');
    assert.throws(
      () => parseConsoleConfig([], { CONSOLE_MEMORY_LIMIT: 'lots' }),
      /^ConfigError: CONSOLE_MEMORY_LIMIT: /,
    );
    const memory = parseConsoleConfig([], { CONSOLE_MEMORY_LIMIT: '512MB' });
    assert.ok(memory !== 'help');
    assert.equal(memory.memoryLimit, '512MB');
  });

  it('knows loopback addresses', () => {
    for (const a of ['127.0.0.1', '127.8.9.10', '::1', '[::1]', '::ffff:127.0.0.1'])
      assert.ok(isLoopbackAddress(a), a);
    for (const a of [
      '0.0.0.0',
      '::',
      '10.0.0.1',
      '192.168.1.1',
      '::ffff:10.0.0.1',
      'localhost',
      '128.0.0.1',
    ])
      assert.ok(!isLoopbackAddress(a), a);
  });

  it('refuses to bind beyond loopback unless told to', async () => {
    await checkBindAddress('127.0.0.1', false);
    await checkBindAddress('localhost', false);
    await checkBindAddress('::1', false);
    for (const host of ['0.0.0.0', '::', '10.1.2.3']) {
      await assert.rejects(
        checkBindAddress(host, false),
        /refusing to bind .*--allow-remote/,
        host,
      );
      await checkBindAddress(host, true);
    }
  });

  it('the console process exits 2 with one error format for a bad variable, its own or Langfuse’s', async () => {
    const server = fileURLToPath(new URL('../src/server.js', import.meta.url));
    for (const [variable, value] of [
      ['CONSOLE_ALLOW_REMOTE', 'maybe'],
      ['LANGFUSE_BASE_URL', 'notaurl'],
      ['PORT', 'http'],
    ] as const) {
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = execFile(
          process.execPath,
          [server],
          { env: { ...process.env, PORT: '0', [variable]: value } },
          (error, _stdout, stderr) => resolve({ code: error ? (child.exitCode ?? 1) : 0, stderr }),
        );
      });
      assert.equal(result.code, 2, variable);
      assert.match(
        result.stderr,
        new RegExp(`^console: invalid configuration: ${variable}: `),
        variable,
      );
    }
  });

  it('the console process exits 2 naming the flag when asked to bind beyond loopback', async () => {
    const server = fileURLToPath(new URL('../src/server.js', import.meta.url));
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        [server, '--host', '0.0.0.0', '--port', '0'],
        (error, _stdout, stderr) => resolve({ code: error ? (child.exitCode ?? 1) : 0, stderr }),
      );
    });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /refusing to bind 0\.0\.0\.0: .*--allow-remote/);
  });
});
