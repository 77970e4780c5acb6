import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  ConsoleConfigError,
  checkBindAddress,
  isLoopbackAddress,
  parseConsoleConfig,
} from '../src/config.js';

describe('console configuration', () => {
  it('defaults: loopback, port 4130, the data/ files, no Langfuse', () => {
    const config = parseConsoleConfig([], {});
    assert.deepEqual(config, {
      host: '127.0.0.1',
      port: 4130,
      allowRemote: false,
      sessionsPath: path.resolve('data/sessions.jsonl'),
      tracesPath: path.resolve('data/traces.jsonl'),
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
    assert.throws(() => parseConsoleConfig([], { PORT: 'http' }), /PORT must be a port number/);
    assert.throws(
      () => parseConsoleConfig(['--port', '70000'], {}),
      /--port must be a port number/,
    );
    assert.throws(() => parseConsoleConfig(['--bogus'], {}), ConsoleConfigError);
    assert.throws(
      () => parseConsoleConfig([], { LANGFUSE_PUBLIC_KEY: 'pk' }),
      /LANGFUSE_SECRET_KEY is missing/,
    );
    assert.throws(
      () => parseConsoleConfig([], { CONSOLE_ALLOW_REMOTE: 'yes' }),
      /CONSOLE_ALLOW_REMOTE/,
    );
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
