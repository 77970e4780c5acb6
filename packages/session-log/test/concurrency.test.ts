import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { MAX_PROMPT_CODE_POINTS, createSessionLog, truncateCodePoints } from '../src/index.js';
import { DIST_SRC } from './helpers.js';

const CHILDREN = 8;
const ROWS_PER_CHILD = 5_000;
const IN_PROCESS_ROWS = 5_000;

// Deterministic prompt for (producer, seq): sizes up to past the 4000 code point cap, mixing
// 1-, 2-, 3- and 4-byte UTF-8 characters. Shipped to the children as source text.
function promptFor(producer: number, seq: number): string {
  const sizes = [0, 5, 30, 80, 200, 600, 1500, 3999, 4000, 4100];
  const alphabet = ['a', 'é', '你', '😀', '"', '\n'];
  const size = sizes[(seq + producer) % sizes.length] ?? 0;
  let out = `${producer}:${seq}:`;
  for (let i = 0; i < size; i++) out += alphabet[(i + seq) % alphabet.length];
  return out;
}

const CHILD_SOURCE = `
import { createSessionLog } from ${JSON.stringify(join(DIST_SRC, 'index.js'))};
const promptFor = ${promptFor.toString()};
const [path, producerText, rowsText] = process.argv.slice(1);
const producer = Number(producerText);
const log = createSessionLog({ path, daemon: 'child-' + producer, scheduledDelayMillis: 5 });
for (let seq = 0; seq < Number(rowsText); seq++) {
  log.emit({ sessionId: producer + '-' + seq, kind: 'fill', model: 'm', provider: 'p',
    prompt: promptFor(producer, seq), iterations: 1, maxIterations: 3, finalVerdict: 'accepted',
    attempts: [{ iteration: 0, verdictKind: 'accepted' }], artifact: { seq, producer },
    groundedInRoster: true, durationMs: seq });
  if (seq % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
}
await log.shutdown();
const stats = log.stats();
if (stats.written !== Number(rowsText)) { console.error(JSON.stringify(stats)); process.exit(2); }
`;

function runChild(path: string, producer: number): Promise<number | null> {
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', CHILD_SOURCE, path, String(producer), String(ROWS_PER_CHILD)],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  return new Promise((resolve) => child.on('exit', resolve));
}

describe('concurrent appends from several processes', () => {
  it(
    '8 processes x 5,000 rows plus an in-process SessionLog: every line whole, count exact',
    { timeout: 120_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'session-log-conc-'));
      try {
        const path = join(dir, 'sessions.jsonl');
        const children = Array.from({ length: CHILDREN }, (_, i) => runChild(path, i + 1));
        const local = createSessionLog({ path, daemon: 'parent', scheduledDelayMillis: 5 });
        for (let seq = 0; seq < IN_PROCESS_ROWS; seq++) {
          local.emit({
            sessionId: `0-${seq}`,
            kind: 'fill',
            model: 'm',
            provider: 'p',
            prompt: promptFor(0, seq),
            iterations: 1,
            maxIterations: 3,
            finalVerdict: 'accepted',
            attempts: [{ iteration: 0, verdictKind: 'accepted' }],
            artifact: { seq, producer: 0 },
            groundedInRoster: true,
            durationMs: seq,
          });
          if (seq % 50 === 49) await yieldToLoop();
        }
        await local.shutdown();
        assert.deepEqual(local.stats(), {
          emitted: IN_PROCESS_ROWS,
          written: IN_PROCESS_ROWS,
          dropped: 0,
          failed: 0,
        });
        assert.deepEqual(await Promise.all(children), Array(CHILDREN).fill(0));

        const text = readFileSync(path, 'utf8');
        assert.ok(text.endsWith('\n'));
        // Every write starts with "\n", so an empty line stands before each batch: allowed
        // (readers skip them); torn or glued lines are not.
        const lines = text
          .slice(0, -1)
          .split('\n')
          .filter((line) => line !== '');
        assert.equal(lines.length, CHILDREN * ROWS_PER_CHILD + IN_PROCESS_ROWS);
        const seen = new Set<string>();
        for (const line of lines) {
          const row = JSON.parse(line) as {
            session_id: string;
            prompt: string;
            daemon: string;
            artifact: { seq: number; producer: number };
          };
          const { seq, producer } = row.artifact;
          assert.equal(row.session_id, `${producer}-${seq}`);
          assert.equal(row.daemon, producer === 0 ? 'parent' : `child-${producer}`);
          assert.equal(
            row.prompt,
            truncateCodePoints(promptFor(producer, seq), MAX_PROMPT_CODE_POINTS),
          );
          assert.ok(!seen.has(row.session_id), `duplicate ${row.session_id}`);
          seen.add(row.session_id);
        }
        assert.equal(seen.size, lines.length);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
