// The one prerequisite policy every suite uses: present → run; missing → skip with one line
// naming what to install, or, under CI, fail with that line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  commandPrerequisite,
  decidePrerequisites,
  filePrerequisite,
  inCi,
  type Prerequisite,
} from '../src/index.js';

const INDEX = pathToFileURL(
  path.join(path.dirname(fileURLToPath(import.meta.url)), '../src/index.js'),
).href;

const missing: Prerequisite = {
  name: 'frobnicator',
  present: () => false,
  install: 'apt-get install frobnicator',
};
const here: Prerequisite = { name: 'node', present: () => true, install: 'n/a' };

void describe('decidePrerequisites', () => {
  void it('runs when everything is present', () => {
    assert.deepEqual(decidePrerequisites([here], {}), { action: 'run' });
  });

  void it('skips outside CI, naming what is missing and how to install it', () => {
    assert.deepEqual(decidePrerequisites([here, missing], {}), {
      action: 'skip',
      reason: 'needs frobnicator (apt-get install frobnicator)',
    });
  });

  void it('fails under CI with the same names', () => {
    const decision = decidePrerequisites([missing], { CI: 'true' });
    assert.equal(decision.action, 'fail');
    assert.ok(
      'reason' in decision && decision.reason.includes('frobnicator (apt-get install frobnicator)'),
    );
  });

  void it('reads CI=true, CI=1 as CI and CI=false, CI=0, empty as not', () => {
    for (const value of ['true', '1', 'yes', 'TRUE'])
      assert.equal(inCi({ CI: value }), true, value);
    for (const value of ['false', '0', '', ' '])
      assert.equal(inCi({ CI: value }), false, JSON.stringify(value));
    assert.equal(inCi({}), false);
  });

  void it('probes commands and files for real', () => {
    assert.equal(commandPrerequisite('node', process.execPath, ['--version'], '').present(), true);
    assert.equal(commandPrerequisite('x', 'no-such-command-here', [], '').present(), false);
    assert.equal(filePrerequisite('x', process.execPath, '').present(), true);
    assert.equal(filePrerequisite('x', '/no/such/file', '').present(), false);
  });
});

void describe('requires() in a real test run', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'prerequisite-test-'));
  const file = path.join(dir, 'suite.test.mjs');
  writeFileSync(
    file,
    [
      `import { describe, it } from 'node:test';`,
      `import { requires } from ${JSON.stringify(INDEX)};`,
      `const frobnicator = { name: 'frobnicator', present: () => false, install: 'apt-get install frobnicator' };`,
      `describe('needs a frobnicator', { skip: requires(frobnicator) }, () => {`,
      `  it('would run', () => {});`,
      `});`,
    ].join('\n'),
  );
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['--test', '--test-reporter=spec', file], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', ...env },
      timeout: 60_000,
    });

  void it('skips with one line naming the install command outside CI (and passes)', () => {
    const result = run({});
    assert.equal(result.status, 0, result.stdout + result.stderr);
    // The suite's own line carries the reason (node:test counts a skipped suite as a suite).
    assert.match(
      result.stdout,
      /needs a frobnicator .*# needs frobnicator \(apt-get install frobnicator\)\n/,
    );
    assert.match(result.stdout, /fail 0/);
  });

  void it('fails the run under CI=true, with the same line', () => {
    const result = run({ CI: 'true' });
    assert.equal(result.status, 1, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      /CI is set but this suite's prerequisites are missing: frobnicator/,
    );
    assert.match(result.stdout, /fail 1/);
  });
});
