import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { sampleContract, WorkerLookup } from '@lakehouse/roster';
import { REPO_ROOT, eventually, postJson, sharedRoster, startStack } from './harness.js';

const run = promisify(execFile);
const TRACE_CLI = path.join(REPO_ROOT, 'packages/langfuse-processor/dist/src/trace-cli.js');

describe('npm run trace on a real session (offline trace file)', () => {
  it('prints the retried session as one tree with levels, types, model and tokens', async () => {
    const roster = await WorkerLookup.load(await sharedRoster());
    // Both services append to one trace file, as under `npm start`.
    const dir = mkdtempSync(path.join(tmpdir(), 'lakehouse-trace-cli-'));
    const traceFile = path.join(dir, 'traces.jsonl');
    const live = await startStack({ env: { LANGFUSE_TRACE_FILE: traceFile } });
    try {
      const res = await postJson(`${live.gateway.url}/v1/iterate`, {
        kind: 'fill',
        prompt: 'Staff the shift.',
        provider: 'sim',
        model: 'phantom-once',
        context: { target_count: 2, ...sampleContract(roster, 11) },
      });
      assert.equal(res.status, 200);
      const traceId = String(res.body.trace_id);
      const stdout = await eventually(
        async () => {
          const out = await run(process.execPath, [TRACE_CLI, traceId, '--file', traceFile]).catch(
            () => undefined,
          );
          // Spans arrive per export batch from two processes: wait for the root and all six children.
          const complete =
            out !== undefined &&
            out.stdout.includes('iterate:fill') &&
            out.stdout.trimEnd().split('\n').length === 7;
          return complete ? out.stdout : undefined;
        },
        15_000,
        'the tree in the trace file',
      );
      const lines = stdout.trimEnd().split('\n');
      assert.match(lines[0]!, new RegExp(`^trace ${traceId}\\s+iterate:fill\\s+accepted`));
      assert.match(lines[1]!, /^├─ attempt 0\s+span\s+WARNING.*not in roster/);
      // Each service anchors its span clock to Date.now() (ms), so the order of an attempt's two
      // children (chatd's generation, the gateway's guardrail) can flip within a millisecond.
      const children = (a: number, b: number) =>
        [lines[a]!, lines[b]!].map((l) => l.replace(/[├└]─/, '─')).sort();
      const [chat0, validate0] = children(2, 3);
      assert.match(
        chat0!,
        /^│ {2}─ chat phantom-once\s+generation\s+DEFAULT.*model=phantom-once tokens \d+→\d+/,
      );
      assert.match(validate0!, /^│ {2}─ validate fill\s+guardrail\s+WARNING/);
      assert.match(lines[4]!, /^└─ attempt 1\s+span\s+DEFAULT/);
      const [chat1, validate1] = children(5, 6);
      assert.match(chat1!, /^ {3}─ chat phantom-once\s+generation/);
      assert.match(validate1!, /^ {3}─ validate fill\s+guardrail\s+DEFAULT/);
      assert.equal(lines.length, 7);

      await assert.rejects(
        run(process.execPath, [TRACE_CLI, 'f'.repeat(32), '--file', traceFile]),
        (err: { code?: number; stderr?: string }) => {
          assert.equal(err.code, 1);
          assert.match(String(err.stderr), /f{32}/);
          return true;
        },
      );
    } finally {
      await live.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
