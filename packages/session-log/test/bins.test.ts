import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FIXTURES_DIR, PACKAGE_DIR, REPO_DIR } from './helpers.js';

const pkg = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
};

describe('the package bins after `npm ci && npm run build`', () => {
  it('every bin is a committed shim outside dist/, so npm links it even before the first build', () => {
    assert.deepEqual(Object.keys(pkg.bin).sort(), [
      'lakehouse-sessions',
      'session-log-parity',
      'session-log-parity-check',
    ]);
    for (const [name, target] of Object.entries(pkg.bin)) {
      assert.ok(!target.includes('dist/'), `${name} -> ${target} would not exist at install time`);
      const path = join(PACKAGE_DIR, target);
      assert.ok(readFileSync(path, 'utf8').startsWith('#!/usr/bin/env node\n'), name);
      assert.ok((statSync(path).mode & 0o111) !== 0, `${name} is executable`);
    }
  });

  it('npx session-log-parity, session-log-parity-check and lakehouse-sessions run the built CLIs', () => {
    const bin = (name: string): string => join(REPO_DIR, 'node_modules', '.bin', name);
    const fixture = readFileSync(join(FIXTURES_DIR, 'accepted_grounded.json'));
    const probe = spawnSync(bin('session-log-parity'), { input: fixture, encoding: 'utf8' });
    assert.equal(probe.status, 0, probe.stderr);
    assert.match(
      probe.stdout,
      /^\{"schema":"session\.iterate\.v1","session_id":"4bf92f3577b34da6a3ce929d0e0e4736"/,
    );
    const help = spawnSync(bin('session-log-parity-check'), ['--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^usage: parity/);
    const sessions = spawnSync(bin('lakehouse-sessions'), ['--help'], { encoding: 'utf8' });
    assert.equal(sessions.status, 0, sessions.stderr);
    assert.match(sessions.stdout, /^usage: sessions/);
  });
});
