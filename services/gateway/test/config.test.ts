import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '@lakehouse/telemetry';
import { DEFAULT_CONFIG, loadConfig, selfUrl } from '../src/config.js';

void describe('loadConfig', () => {
  void it('uses the documented defaults', () => {
    assert.deepEqual(loadConfig({}), DEFAULT_CONFIG);
    assert.equal(DEFAULT_CONFIG.port, 4110);
    assert.equal(DEFAULT_CONFIG.chatdUrl, 'http://127.0.0.1:4120');
  });

  void it('reads every variable', () => {
    const config = loadConfig({
      PORT: '0',
      HOST: '0.0.0.0',
      CHATD_URL: 'http://chatd:4120/',
      GATEWAY_SELF_URL: 'http://gateway:4110',
      CHAT_TIMEOUT_MS: '500',
      VALIDATE_TIMEOUT_MS: '600',
      ROSTER_PATH: 'r.csv',
      SESSION_LOG_PATH: 'data/s.jsonl',
      BODY_LIMIT_BYTES: '1000',
      LOG_LEVEL: 'DEBUG',
      CONTENT_CAPTURE: 'Off',
    });
    assert.equal(config.contentCapture, false);
    assert.equal(config.port, 0);
    assert.equal(config.chatdUrl, 'http://chatd:4120');
    assert.equal(config.gatewaySelfUrl, 'http://gateway:4110');
    assert.equal(config.chatTimeoutMs, 500);
    assert.equal(config.validateTimeoutMs, 600);
    assert.equal(config.rosterPath, 'r.csv');
    assert.equal(config.sessionLogPath, 'data/s.jsonl');
    assert.equal(config.bodyLimitBytes, 1000);
    assert.equal(config.logLevel, 'debug');
  });

  void it('throws ConfigError naming the variable', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'gateway-config-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const fifo = join(dir, 'sessions.fifo');
    execFileSync('mkfifo', [fifo]);
    const cases: [Record<string, string>, string][] = [
      [{ PORT: 'http' }, 'PORT'],
      [{ PORT: '70000' }, 'PORT'],
      [{ CHATD_URL: 'chatd:4120' }, 'CHATD_URL'],
      [{ GATEWAY_SELF_URL: 'ftp://x' }, 'GATEWAY_SELF_URL'],
      [{ CHAT_TIMEOUT_MS: '0' }, 'CHAT_TIMEOUT_MS'],
      [{ VALIDATE_TIMEOUT_MS: '-1' }, 'VALIDATE_TIMEOUT_MS'],
      [{ BODY_LIMIT_BYTES: '1.5' }, 'BODY_LIMIT_BYTES'],
      [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
      [{ CONTENT_CAPTURE: 'maybe' }, 'CONTENT_CAPTURE'],
      // A directory, and a FIFO (with no reader it would block the writer forever).
      [{ SESSION_LOG_PATH: tmpdir() }, 'SESSION_LOG_PATH'],
      [{ SESSION_LOG_PATH: fifo }, 'SESSION_LOG_PATH'],
    ];
    for (const [env, variable] of cases) {
      assert.throws(
        () => loadConfig(env),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.variable === variable &&
          err.message.startsWith(`${variable}:`),
        variable,
      );
    }
  });
});

void describe('selfUrl', () => {
  void it('defaults to loopback on the bound port and honours GATEWAY_SELF_URL', () => {
    assert.equal(selfUrl(loadConfig({}), 5000), 'http://127.0.0.1:5000');
    assert.equal(selfUrl(loadConfig({ HOST: '0.0.0.0' }), 5000), 'http://127.0.0.1:5000');
    assert.equal(selfUrl(loadConfig({ HOST: '::1' }), 5000), 'http://[::1]:5000');
    assert.equal(selfUrl(loadConfig({ GATEWAY_SELF_URL: 'http://gw:1/' }), 5000), 'http://gw:1');
  });
});
