import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as env from '../src/index.js';

function fails(fn: () => unknown, variable: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof env.ConfigError, String(err));
    assert.equal(err.variable, variable);
    assert.ok(err.message.startsWith(`${variable}: `), err.message);
    assert.match(err.message, message);
    return true;
  });
}

void describe('environment readers', () => {
  void it('read unset and blank as the fallback, and trim', () => {
    assert.equal(env.readString({ A: '  x ' }, 'A'), 'x');
    assert.equal(env.readString({ A: '   ' }, 'A'), undefined);
    assert.equal(env.readInt({}, 'N', 7, 0, 10), 7);
    assert.equal(env.readInt({ N: ' 3 ' }, 'N', 7, 0, 10), 3);
    assert.equal(env.readNumber({ R: '0.25' }, 'R', 1, 0, 1), 0.25);
    assert.equal(env.readHttpUrl({ U: 'http://h:1//' }, 'U'), 'http://h:1');
    assert.equal(env.readLogLevel({ LOG_LEVEL: 'WARN' }), 'warn');
    assert.equal(env.readLogLevel({}), 'info');
  });

  void it('CONTENT_CAPTURE is on by default, takes the usual spellings, and refuses anything else', () => {
    assert.equal(env.readContentCapture({}), true);
    for (const on of ['true', 'TRUE', '1', 'on', 'yes']) {
      assert.equal(env.readContentCapture({ CONTENT_CAPTURE: on }), true, on);
    }
    for (const off of ['false', '0', 'off', 'OFF', ' False ', 'no']) {
      assert.equal(env.readContentCapture({ CONTENT_CAPTURE: off }), false, off);
    }
    for (const typo of ['maybe', 'flase', 'disabled', '2']) {
      fails(
        () => env.readContentCapture({ CONTENT_CAPTURE: typo }),
        'CONTENT_CAPTURE',
        /true or false/,
      );
    }
    fails(() => env.readBoolean({ X: 'y' }, 'X', false), 'X', /got "y"/);
  });

  void it('name the variable of every malformed value', () => {
    fails(() => env.readInt({ N: '1.5' }, 'N', 0, 0, 9), 'N', /expected an integer, got "1.5"/);
    fails(() => env.readInt({ N: '10' }, 'N', 0, 0, 9), 'N', /must be between 0 and 9, got 10/);
    fails(() => env.readInt({ N: '99999999999999999999' }, 'N', 0, 0, 2 ** 53), 'N', /between/);
    fails(() => env.readNumber({ R: 'lots' }, 'R', 0, 0, 1), 'R', /expected a number/);
    fails(() => env.readHttpUrl({ U: 'ftp://x' }, 'U'), 'U', /http\(s\) URL/);
    fails(
      () => env.readLogLevel({ LOG_LEVEL: 'loud' }),
      'LOG_LEVEL',
      /expected one of error, warn/,
    );
  });
});

void describe('loadConfigOrExit', () => {
  void it('reports a ConfigError-shaped error of another package like a ConfigError', (t) => {
    class OtherConfigError extends Error {
      readonly variable = 'LANGFUSE_HOST';
    }
    const exit = t.mock.method(process, 'exit', () => {
      throw new Error('exited');
    });
    const write = t.mock.method(process.stderr, 'write', () => true);
    assert.throws(
      () =>
        env.loadConfigOrExit('gateway', () => {
          throw new OtherConfigError('LANGFUSE_HOST: expected an http(s) URL, got "notaurl"');
        }),
      /exited/,
    );
    assert.deepEqual(exit.mock.calls[0]?.arguments, [2]);
    assert.equal(
      write.mock.calls[0]?.arguments[0],
      'gateway: invalid configuration: LANGFUSE_HOST: expected an http(s) URL, got "notaurl"\n',
    );
    assert.throws(
      () =>
        env.loadConfigOrExit('gateway', () => {
          throw new Error('boom');
        }),
      /boom/,
    );
  });
});
