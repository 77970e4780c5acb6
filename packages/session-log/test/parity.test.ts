import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, symlinkSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { PREREQUISITES, requires } from '@lakehouse/test-support';
import {
  buildReferencePeers,
  checkRowLine,
  classifyMatrix,
  compareRuns,
  encodeSessionRecord,
  runProbe,
  stripTopLevelKeys,
} from '../src/index.js';
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
    assert.equal(out.outcome, 'accepted');
    const text = out.stdout.toString('utf8');
    assert.equal(text, readFileSync(join(EXPECTED_DIR, 'accepted_grounded.jsonl'), 'utf8'));
    assert.ok(text.includes('"timestamp":"2026-01-01T00:00:00+00:00","daemon":"gateway"'));
  });

  it('accepts what serde accepts: unknown fields ignored, missing artifact/grounded_in_roster are None', async () => {
    const input = okFixture
      .replace('"kind": "fill"', '"kind": "fill", "knd": [1e400, "\\ud800"]')
      .replace(/,\s*"artifact": \{.*\},\n/, ',\n')
      .replace(/\s*"grounded_in_roster": true,/, '');
    assert.ok(!input.includes('"artifact"') && !input.includes('grounded_in_roster'), input);
    const out = await runProbe([process.execPath, PROBE], input);
    assert.equal(out.exitCode, 0, out.stderr);
    assert.ok(
      out.stdout.includes('"attempts":[') && out.stdout.includes('"grounded_in_roster":null,'),
    );
    assert.ok(!out.stdout.includes('"artifact"') && !out.stdout.includes('knd'));
  });

  const malformed: [string, string | Buffer, RegExp][] = [
    ['bad JSON', '{"session_id": ', /not valid JSON/],
    ['not an object', '"x"', /must be a JSON object/],
    [
      'missing field',
      okFixture.replace('"session_id": "4bf92f3577b34da6a3ce929d0e0e4736",', ''),
      /missing field "session_id"/,
    ],
    [
      'wrong type',
      okFixture.replace('"iterations": 2', '"iterations": "2"'),
      /field "iterations": expected an integer/,
    ],
    ['negative integer', okFixture.replace('"iterations": 2', '"iterations": -2'), /iterations/],
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
      'duplicate field',
      okFixture.replace('"kind": "fill"', '"kind": "fill", "kind": "email"'),
      /duplicate field "kind"/,
    ],
    [
      'grounded wrong type',
      okFixture.replace('"grounded_in_roster": true', '"grounded_in_roster": "yes"'),
      /grounded_in_roster/,
    ],
    ['lone surrogate', okFixture.replace('"sim"', '"\\udc00"'), /surrogate/],
    ['number beyond f64', okFixture.replace('"W-17"', '1e400'), /out of range/],
    [
      'invalid UTF-8',
      Buffer.concat([
        Buffer.from(okFixture.slice(0, 60)),
        Buffer.from([0xc3]),
        Buffer.from(okFixture.slice(60)),
      ]),
      /not valid UTF-8/,
    ],
    ['byte order mark', '\ufeff' + okFixture, /not valid JSON/],
    ['empty input', '', /not valid JSON/],
  ];
  for (const [name, input, message] of malformed) {
    it(`malformed input (${name}) → exit 1 with the bad fixture message on stderr`, async () => {
      const out = await runProbe([process.execPath, PROBE], input);
      assert.equal(out.exitCode, 1, out.stdout.toString());
      assert.equal(out.stdout.length, 0);
      assert.match(out.stderr, /^session-log-parity: bad fixture: /);
      assert.match(out.stderr, message);
      assert.equal(out.outcome, 'rejected');
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

  const run = (fields: Partial<ProbeRun> & Pick<ProbeRun, 'outcome'>): ProbeRun => ({
    exitCode: 0,
    signal: null,
    timedOut: false,
    stdout: Buffer.alloc(0),
    stderr: '',
    invalid: undefined,
    ...fields,
  });
  const rejected = run({ exitCode: 1, stderr: 'p: bad fixture: boom', outcome: 'rejected' });
  const crashed = run({ exitCode: 1, stderr: 'TypeError: boom', outcome: 'failed' });
  const row = (text: string): ProbeRun =>
    run({ stdout: Buffer.from(text + '\n'), outcome: 'accepted' });

  it('never calls two failures equal, even with identical output', () => {
    assert.equal(compareRuns(rejected, rejected).result, 'both failed');
    const invalid = run({
      stdout: Buffer.from('x\n'),
      invalid: 'not valid JSON',
      outcome: 'failed',
    });
    assert.equal(compareRuns(invalid, invalid).result, 'both failed');
    const ok = row('{"a":1,"timestamp":"x"}');
    assert.equal(compareRuns(ok, row('{"a":1,"timestamp":"y"}')).result, 'equal');
    assert.equal(compareRuns(ok, row('{"a":2,"timestamp":"x"}')).result, 'different');
    assert.equal(compareRuns(ok, rejected).result, 'peer failed');
  });

  it('classifies the three-runtime matrix: three refusals are "all reject", never "equal"; any failure is FAILED', () => {
    const a = row('{"a":1}');
    const b = row('{"a":1.0}');
    assert.equal(classifyMatrix({ ours: a, go: a, rust: a }).result, 'equal');
    assert.equal(
      classifyMatrix({ ours: rejected, go: rejected, rust: rejected }).result,
      'all reject',
    );
    assert.equal(classifyMatrix({ ours: crashed, go: rejected, rust: rejected }).result, 'FAILED');
    assert.equal(classifyMatrix({ ours: a, go: a, rust: crashed }).result, 'FAILED');
    assert.equal(classifyMatrix({ ours: a, go: rejected, rust: rejected }).result, 'OURS DIFFERS');
    assert.equal(classifyMatrix({ ours: b, go: a, rust: a }).result, 'OURS DIFFERS');
    assert.equal(
      classifyMatrix({ ours: b, go: a, rust: b }).result,
      'peers disagree (ours = rust)',
    );
    assert.equal(
      classifyMatrix({ ours: a, go: a, rust: b }).result,
      'PEERS DISAGREE, OURS != RUST',
    );
    assert.equal(
      classifyMatrix({ ours: rejected, go: a, rust: rejected }).result,
      'peers disagree (ours = rust)',
    );
    assert.equal(
      classifyMatrix({ ours: a, go: a, rust: rejected }).result,
      'PEERS DISAGREE, OURS != RUST',
    );
  });
});

const skip = requires(PREREQUISITES.go, PREREQUISITES.cargo);

describe('parity script (our probe, the Go and the Rust reference producers)', { skip }, () => {
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'session-log-parity-'));
    await buildReferencePeers(REPO_DIR);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('every committed fixture comes out as its directory promises', async () => {
    const out = await run([PARITY]);
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.match(out.stdout, /fixture\s+ours\s+go\s+rust\s+result/);
    assert.match(out.stdout, /accepted_grounded\s+ok\s+ok\s+ok\s+equal/);
    assert.match(
      out.stdout,
      /divergent\/u2028_u2029\s+ok\s+ok\s+ok\s+peers disagree \(ours = rust\)/,
    );
    assert.match(out.stdout, /rejected\/not_json\s+rejects\s+rejects\s+rejects\s+all reject/);
    assert.match(out.stdout, / 0 wrong\n$/);
  });

  // A private tree: parity/fixtures/<name>.json under --root.
  function tree(name: string, files: Record<string, string>): string {
    const root = join(dir, name);
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(root, 'parity', path, '..'), { recursive: true });
      writeFileSync(join(root, 'parity', path), text);
    }
    symlinkSync(join(REPO_DIR, 'parity', 'peers'), join(root, 'parity', 'peers'));
    return root;
  }

  it('refuses to call three failing runtimes equal', async () => {
    const root = tree('broken', { 'fixtures/broken.json': '"not a fixture"' });
    const out = await run([PARITY, '--root', root]);
    assert.equal(out.code, 1, out.stdout + out.stderr);
    assert.match(
      out.stdout,
      /broken\s+rejects\s+rejects\s+rejects\s+all reject \(expected equal\)/,
    );
    assert.match(out.stdout, / 1 wrong\n$/);
  });

  it('holds an extra --peer to byte equality with ours', async () => {
    const differing = `${q(process.execPath)} ${q(PROBE)} | ${q(process.execPath)} -e ${q(
      "let s='';process.stdin.on('data',c=>s+=c).on('end',()=>process.stdout.write(s.replace('\"provider\":\"sim\"','\"provider\":\"SIM\"')))",
    )}`;
    const root = tree('peer', { 'fixtures/accepted_grounded.json': okFixture });
    const out = await run([PARITY, '--root', root, '--peer', differing]);
    assert.equal(out.code, 1, out.stdout + out.stderr);
    assert.match(out.stdout, /accepted_grounded\s+ok\s+ok\s+ok\s+ok different\s+equal/);
    const same = await run([
      PARITY,
      '--root',
      root,
      '--peer',
      `${q(process.execPath)} ${q(PROBE)}`,
    ]);
    assert.equal(same.code, 0, same.stdout + same.stderr);
  });
  it('artifact keys that become one once well-formed ("\\udc00", "\\ufffd"): ours keeps the last, as serde_json reading the well-formed bytes', async () => {
    const peers = await buildReferencePeers(REPO_DIR);
    const wellFormed = (text: string): string =>
      text.replace(
        /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
        '\ufffd',
      );
    const key = fc.constantFrom('\udc00', '\ud800', '\ufffd', 'a', 'a\udfff', 'a\ufffd', 'b');
    const entries = fc.uniqueArray(fc.tuple(key, fc.integer()), {
      selector: ([k]) => k,
      minLength: 1,
      maxLength: 7,
    });
    await fc.assert(
      fc.asyncProperty(entries, entries, async (outer, inner) => {
        const object = (list: [string, number][], convert: (k: string) => string): string =>
          '{' + list.map(([k, v]) => `${q(convert(k))}:${v}`).join(',') + '}';
        // What the gateway holds: JSON.parse of the model's text, lone surrogates and all.
        const source = `{"x":${object(inner, (k) => k)},${object(outer, (k) => k).slice(1)}`;
        const row = encodeSessionRecord({
          sessionId: 's',
          timestamp: '2026-01-01T00:00:00+00:00',
          daemon: 'gateway',
          kind: 'fill',
          model: 'm',
          provider: 'p',
          prompt: 'x',
          iterations: 1,
          maxIterations: 3,
          finalVerdict: 'accepted',
          attempts: [],
          artifact: JSON.parse(source) as unknown,
          artifactJson: source,
          groundedInRoster: true,
          durationMs: 1,
        });
        // What serde_json reads from the same keys written well-formed (repeats included).
        const artifact = `{"x":${object(inner, wellFormed)},${object(outer, wellFormed).slice(1)}`;
        const fixture = `{"session_id":"s","kind":"fill","model":"m","provider":"p","prompt":"x","iterations":1,"max_iterations":3,"final_verdict":"accepted","attempts":[],"artifact":${artifact},"grounded_in_roster":true,"duration_ms":1}`;
        const rust = await runProbe(peers.rust, fixture);
        assert.equal(rust.exitCode, 0, rust.stderr);
        assert.equal(row, rust.stdout.toString('utf8'));
      }),
      { numRuns: 40 },
    );
  });
});
