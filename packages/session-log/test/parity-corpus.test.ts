import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PREREQUISITES, requires } from '@lakehouse/test-support';
import { buildReferencePeers, classifyMatrix, divergenceClass, runProbe } from '../src/index.js';
import { generateCorpus } from '../src/parity-corpus.js';
import { DIST_SRC, REPO_DIR, divergenceTable } from './helpers.js';

const PROBE = [process.execPath, join(DIST_SRC, 'parity-probe.js')];

// The divergences the generated corpus must find between Go's encoding/json and serde_json
// (issue #15), each as the reason classifyMatrix gives.
const MUST_FIND: readonly [string, RegExp][] = [
  ['U+2028/U+2029', /go escapes U\+2028\/U\+2029/],
  ['integral floats (1.0, -0.0)', /go writes -?N where rust writes -?N\.N/],
  ['number digits (integers past 2^53, serde_json rounding)', /go and rust write different digits/],
  ['lone surrogates', /rust rejects: (unexpected end of hex escape|lone leading surrogate)/],
  ['invalid UTF-8', /rust rejects: stream did not contain valid UTF-N/],
  ['deep artifacts', /rust rejects: recursion limit exceeded/],
  ['empty strings (omitempty)', /go omits "error"/],
];

const skip = requires(PREREQUISITES.go, PREREQUISITES.cargo);

describe('generated parity corpus (fast-check → fixtures → ours, Go, Rust)', { skip }, () => {
  it(
    'ours follows serde_json on every fixture and the corpus finds each known divergence',
    { timeout: 300_000 },
    async () => {
      const peers = await buildReferencePeers(REPO_DIR);
      const corpus = generateCorpus(200, 1);
      const reasons = new Map<string, number>();
      const wrong: string[] = [];
      for (let i = 0; i < corpus.length; i += 4) {
        await Promise.all(
          corpus.slice(i, i + 4).map(async (fixture) => {
            const [ours, go, rust] = await Promise.all([
              runProbe(PROBE, fixture.bytes),
              runProbe(peers.go, fixture.bytes),
              runProbe(peers.rust, fixture.bytes),
            ]);
            const { result, detail } = classifyMatrix({ ours, go, rust });
            if (result === 'OURS DIFFERS' || result === 'PEERS DISAGREE, OURS != RUST') {
              wrong.push(
                `${fixture.name}: ${result}: ${detail ?? ''}\n${fixture.bytes.toString('utf8').slice(0, 2000)}`,
              );
            }
            const key = result === 'peers disagree (ours = rust)' ? (detail ?? result) : result;
            reasons.set(key, (reasons.get(key) ?? 0) + 1);
          }),
        );
      }
      assert.deepEqual(wrong, []);
      const found = [...reasons.keys()];
      for (const [name, pattern] of MUST_FIND) {
        assert.ok(
          found.some((r) => pattern.test(r)),
          `the corpus found no ${name}: ${found.join(' | ')}`,
        );
      }
      // The README's divergence table lists every class the corpus finds.
      const listed = new Set(divergenceTable().flatMap((row) => row.classes));
      const unlisted = found
        .filter((reason) => reason !== 'equal' && reason !== 'all reject')
        .map(divergenceClass)
        .filter((name) => !listed.has(name));
      assert.deepEqual(
        [...new Set(unlisted)],
        [],
        'classes the README table does not list: add a fixture to parity/divergent and a row',
      );
      assert.ok(
        (reasons.get('equal') ?? 0) >= 20,
        'most generated fixtures should still be ordinary',
      );
    },
  );
});
