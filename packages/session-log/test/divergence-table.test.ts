// The README's table of Go/serde_json divergences, held to the parity run: every fixture in
// parity/divergent is in exactly one row, and each row's fixtures give the classes it names.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PREREQUISITES, requires } from '@lakehouse/test-support';
import {
  buildReferencePeers,
  classifyMatrix,
  disagreementReason,
  divergenceClass,
  runProbe,
} from '../src/index.js';
import { DIST_SRC, REPO_DIR, divergenceTable } from './helpers.js';

const PROBE = [process.execPath, join(DIST_SRC, 'parity-probe.js')];
const DIVERGENT = join(REPO_DIR, 'parity', 'divergent');

describe('the README lists every divergence the parity run finds', () => {
  const table = divergenceTable();

  it('names every fixture of parity/divergent in exactly one row, and no other', () => {
    const named = table.flatMap((row) => row.fixtures);
    const files = readdirSync(DIVERGENT)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length));
    assert.deepEqual([...named].sort(), files.sort());
    assert.equal(new Set(named).size, named.length, 'a fixture named twice');
  });

  it(
    "each row's fixtures give exactly the classes the row names",
    { skip: requires(PREREQUISITES.go, PREREQUISITES.cargo), timeout: 120_000 },
    async () => {
      const peers = await buildReferencePeers(REPO_DIR);
      const wrong: string[] = [];
      for (const row of table) {
        const found = new Set<string>();
        for (const name of row.fixtures) {
          const bytes = readFileSync(join(DIVERGENT, `${name}.json`));
          const [ours, go, rust] = await Promise.all([
            runProbe(PROBE, bytes),
            runProbe(peers.go, bytes),
            runProbe(peers.rust, bytes),
          ]);
          const { result } = classifyMatrix({ ours, go, rust });
          const found1 = divergenceClass(disagreementReason(go, rust));
          if (result !== 'peers disagree (ours = rust)') wrong.push(`${name}: ${result}`);
          else if (!row.classes.includes(found1)) wrong.push(`${name}: parity says "${found1}"`);
          found.add(found1);
        }
        for (const named of row.classes) {
          if (!found.has(named))
            wrong.push(`row ${row.fixtures.join(', ')}: no fixture gives "${named}"`);
        }
      }
      assert.deepEqual(wrong, []);
    },
  );
});
