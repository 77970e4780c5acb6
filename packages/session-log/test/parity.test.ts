import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkRowLine, compareRuns, runProbe, stripTopLevelKeys } from '../src/index.js';
import type { ProbeRun } from '../src/index.js';
import { DIST_SRC, EXPECTED_DIR, FIXTURES_DIR, REPO_DIR } from './helpers.js';

const PROBE = join(DIST_SRC, 'parity-probe.js');
const PARITY = join(DIST_SRC, 'parity.js');
const q = JSON.stringify;

function run(
  args: string[],
  cwd = REPO_DIR,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const okFixture = readFileSync(join(FIXTURES_DIR, 'accepted_grounded.json'), 'utf8');

describe('parity probe', () => {
  it('prints the row with pinned timestamp and daemon', async () => {
    const out = await runProbe([process.execPath, PROBE], okFixture);
    assert.equal(out.exitCode, 0, out.stderr);
    assert.equal(out.stdout, readFileSync(join(EXPECTED_DIR, 'accepted_grounded.jsonl'), 'utf8'));
    assert.ok(out.stdout.includes('"timestamp":"2026-01-01T00:00:00+00:00","daemon":"gateway"'));
  });

  const malformed: [string, string, RegExp][] = [
    ['bad JSON', '{"session_id": ', /not valid JSON/],
    ['not an object', '[1,2]', /must be a JSON object, got array/],
    [
      'missing field',
      okFixture.replace('"session_id": "4bf92f3577b34da6a3ce929d0e0e4736",', ''),
      /missing field "session_id"/,
    ],
    [
      'wrong type',
      okFixture.replace('"iterations": 2', '"iterations": "2"'),
      /field "iterations": expected an integer, got string/,
    ],
    [
      'bad attempt',
      okFixture.replace('"verdict_kind": "accepted"', '"verdict_kind": 7'),
      /field "attempts\[1\]\.verdict_kind": expected a string/,
    ],
    [
      'unknown verdict',
      okFixture.replace('"final_verdict": "accepted"', '"final_verdict": "won"'),
      /final_verdict/,
    ],
    [
      'unknown field',
      okFixture.replace('"kind": "fill"', '"kind": "fill", "knd": 1'),
      /unknown field "knd"/,
    ],
    [
      'grounded wrong type',
      okFixture.replace('"grounded_in_roster": true', '"grounded_in_roster": "yes"'),
      /grounded_in_roster/,
    ],
    ['empty input', '', /not valid JSON/],
  ];
  for (const [name, input, message] of malformed) {
    it(`malformed input (${name}) → exit 1 with a message on stderr`, async () => {
      const out = await runProbe([process.execPath, PROBE], input);
      assert.equal(out.exitCode, 1);
      assert.equal(out.stdout, '');
      assert.match(out.stderr, message);
    });
  }
});

describe('parity helpers', () => {
  it('strips only top-level timestamp/daemon, keeping every other byte', () => {
    const line =
      '{"a":1,"timestamp":"t","n":{"timestamp":"keep","daemon":[1,{"x":"}"}]},"daemon":"d","s":"\\",\\"daemon\\":1"}\n';
    assert.equal(
      stripTopLevelKeys(line, ['timestamp', 'daemon']),
      '{"a":1,"n":{"timestamp":"keep","daemon":[1,{"x":"}"}]},"s":"\\",\\"daemon\\":1"}',
    );
  });

  it('checks that output is one JSON object line', () => {
    assert.equal(checkRowLine('{}\n'), undefined);
    assert.equal(checkRowLine('{}'), 'no trailing newline');
    assert.equal(checkRowLine('{}\n{}\n'), 'more than one line');
    assert.equal(checkRowLine('[]\n'), 'not a JSON object');
    assert.equal(checkRowLine('{\n'), 'not valid JSON');
    assert.equal(checkRowLine(''), 'empty output');
  });

  it('never calls two failures equal, even with identical output', () => {
    const failed: ProbeRun = { exitCode: 1, stdout: '', stderr: 'boom', invalid: undefined };
    assert.equal(compareRuns(failed, failed).result, 'both failed');
    const invalid: ProbeRun = { exitCode: 0, stdout: 'x\n', stderr: '', invalid: 'not valid JSON' };
    assert.equal(compareRuns(invalid, invalid).result, 'both failed');
    const ok: ProbeRun = {
      exitCode: 0,
      stdout: '{"a":1,"timestamp":"x"}\n',
      stderr: '',
      invalid: undefined,
    };
    assert.equal(compareRuns(ok, { ...ok, stdout: '{"a":1,"timestamp":"y"}\n' }).result, 'equal');
    assert.equal(
      compareRuns(ok, { ...ok, stdout: '{"a":2,"timestamp":"x"}\n' }).result,
      'different',
    );
    assert.equal(compareRuns(ok, failed).result, 'peer failed');
  });
});

describe('parity script', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'session-log-parity-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('matches every committed expected row without --peer', async () => {
    const out = await run([PARITY]);
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.match(out.stdout, /fixture\s+ours\s+expected\s+result/);
    assert.match(out.stdout, /(\d+)\/\1 fixtures byte-equal/);
  });

  it('passes against a peer that is our own probe (timestamp/daemon differences ignored)', async () => {
    // The peer rewrites daemon and timestamp: those two fields must not count.
    const peer = `${q(process.execPath)} ${q(PROBE)} | ${q(process.execPath)} -e ${q(
      "let s='';process.stdin.on('data',c=>s+=c).on('end',()=>process.stdout.write(s.replace('\"daemon\":\"gateway\"','\"daemon\":\"peer\"').replace('2026-01-01T00:00:00+00:00','2026-01-01T00:00:00.000000Z')))",
    )}`;
    const out = await run([PARITY, '--peer', peer]);
    assert.equal(out.code, 0, out.stdout + out.stderr);
  });

  it('exits non-zero when the peer differs', async () => {
    const peer = `${q(process.execPath)} ${q(PROBE)} | ${q(process.execPath)} -e ${q(
      "let s='';process.stdin.on('data',c=>s+=c).on('end',()=>process.stdout.write(s.replace('\"provider\":\"sim\"','\"provider\":\"SIM\"')))",
    )}`;
    const out = await run([PARITY, '--peer', peer]);
    assert.equal(out.code, 1);
    assert.match(out.stdout, /accepted_grounded\s+ok\s+ok\s+DIFFERENT/);
    assert.match(out.stdout, /first difference at byte/);
  });

  it('flags a peer that prints two lines or no newline as failed', async () => {
    const peer = `${q(process.execPath)} -e ${q("process.stdout.write('{}\\n{}\\n')")}`;
    const out = await run([PARITY, '--peer', peer]);
    assert.equal(out.code, 1);
    assert.match(out.stdout, /invalid \(more than one line\)\s+PEER FAILED/);
  });

  it('refuses to call two failing sides equal', async () => {
    const fixtures = join(dir, 'fixtures');
    await import('node:fs/promises').then((fs) => fs.mkdir(fixtures));
    writeFileSync(join(fixtures, 'broken.json'), '{"not":"a fixture"}');
    const out = await run([
      PARITY,
      '--fixtures',
      fixtures,
      '--peer',
      `${q(process.execPath)} -e "process.exit(1)"`,
    ]);
    assert.equal(out.code, 1);
    assert.match(out.stdout, /broken\s+exit 1\s+exit 1\s+BOTH FAILED \(not equal\)/);
    assert.match(out.stdout, /0\/1 fixtures byte-equal/);
  });
});
