// A probe that crashes, is killed or writes bytes that are not UTF-8 has given no answer: the
// matrix must call that FAILED, never "all reject" next to peers that refuse, and never "equal"
// next to a valid row that decodes to the same text.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { PREREQUISITES, requires } from '@lakehouse/test-support';
import { buildReferencePeers, classifyMatrix, compareRuns, runProbe } from '../src/index.js';
import { DIST_SRC, REPO_DIR } from './helpers.js';

const PROBE = [process.execPath, join(DIST_SRC, 'parity-probe.js')];
const node = (code: string): string[] => [process.execPath, '-e', code];

// A fixture every runtime refuses, and one every runtime writes with a U+FFFD in the prompt.
const REFUSED = readFileSync(join(REPO_DIR, 'parity/rejected/not_json.json'));
const REPLACEMENT = Buffer.from(
  JSON.stringify({
    session_id: 's',
    kind: 'fill',
    model: 'm',
    provider: 'p',
    prompt: 'a\ufffdb',
    iterations: 1,
    max_iterations: 3,
    final_verdict: 'infra_error',
    attempts: [],
    duration_ms: 1,
  }),
);

describe(
  'parity: only a row and a rejection are answers',
  { skip: requires(PREREQUISITES.go, PREREQUISITES.cargo) },
  () => {
    let peers: { go: string[]; rust: string[] };
    before(async () => {
      peers = await buildReferencePeers(REPO_DIR);
    });

    const peersOn = async (fixture: Buffer) => {
      const [go, rust] = await Promise.all([
        runProbe(peers.go, fixture),
        runProbe(peers.rust, fixture),
      ]);
      return { go, rust };
    };

    it('an uncaught exception (exit 1, a stack trace, no "bad fixture:") next to two refusals is FAILED', async () => {
      const { go, rust } = await peersOn(REFUSED);
      const crash = await runProbe(node('throw new TypeError("boom")'), REFUSED);
      assert.equal(crash.exitCode, 1); // what Node exits with on an uncaught exception
      assert.equal(classifyMatrix({ ours: crash, go, rust }).result, 'FAILED');
      // The real probe's refusal is an answer.
      const ours = await runProbe(PROBE, REFUSED);
      assert.equal(classifyMatrix({ ours, go, rust }).result, 'all reject');
    });

    it('a probe killed by a signal is FAILED, not a rejection', async () => {
      const { go, rust } = await peersOn(REFUSED);
      const killed = await runProbe(node('process.kill(process.pid, "SIGKILL")'), REFUSED);
      assert.equal(killed.exitCode, null);
      assert.equal(classifyMatrix({ ours: killed, go, rust }).result, 'FAILED');
    });

    it('a row with invalid UTF-8 where the peers write U+FFFD is FAILED, not equal (bytes are compared raw)', async () => {
      const { go, rust } = await peersOn(REPLACEMENT);
      const valid = await runProbe(PROBE, REPLACEMENT);
      assert.equal(classifyMatrix({ ours: valid, go, rust }).result, 'equal');
      // The same row with the lone byte 0xff where U+FFFD (EF BF BD) stands.
      const row = Buffer.from(valid.stdout);
      const at = row.indexOf(Buffer.from([0xef, 0xbf, 0xbd]));
      assert.ok(at > 0);
      const bytes = Buffer.concat([row.subarray(0, at), Buffer.from([0xff]), row.subarray(at + 3)]);
      const invalid = await runProbe(
        node(`process.stdout.write(Buffer.from(${JSON.stringify([...bytes])}))`),
        REPLACEMENT,
      );
      assert.equal(compareRuns(invalid, rust).result, 'ours failed');
      assert.equal(classifyMatrix({ ours: invalid, go, rust }).result, 'FAILED');
    });
  },
);
