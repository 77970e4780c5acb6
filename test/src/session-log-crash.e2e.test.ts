// What a crash can cost (issue #12, invariant 3), with real processes and SIGKILL:
// - a producer killed mid-write leaves at most a fragment line, and no OTHER producer loses a
//   row to it (before: the next row was glued onto the fragment and lost);
// - the killed gateway itself loses only its batch window: the rows of the last sessions it
//   answered, never older ones. The loss is measured and reported.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT, eventually, fillRequest, postJson, startStack } from './harness.js';
import { readSessionFile, reportEvidence } from './faults-helpers.js';

const SESSION_LOG = path.join(REPO_ROOT, 'packages/session-log/dist/src/index.js');

// A producer writing big batches (about 3 MB per write) with our writer. Its first write kills
// the process by SIGKILL as soon as the write has begun to land: a real kill inside a write.
const VICTIM = `
import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createSessionLog } from ${JSON.stringify(SESSION_LOG)};
const path = process.argv[1];
const probe = await open(process.execPath, 'r');
const proto = Object.getPrototypeOf(probe);
await probe.close();
const write = proto.write;
proto.write = function (...args) {
  const before = statSync(path).size;
  const pending = write.apply(this, args);
  for (let i = 0; i < 1e7 && statSync(path).size === before; i++);
  process.kill(process.pid, 'SIGKILL');
  return pending;
};
const log = createSessionLog({ path, daemon: 'victim', scheduledDelayMillis: 50 });
const big = 'v'.repeat(100000);
for (let seq = 0; seq < 32; seq++) {
  log.emit({ sessionId: 'victim-' + process.pid + '-' + seq, kind: 'email', model: 'm', provider: 'p', prompt: 'p',
    iterations: 1, maxIterations: 3, finalVerdict: 'accepted', attempts: [], artifact: { big },
    groundedInRoster: null, durationMs: seq });
}
await log.forceFlush();
`;

function endsInNewline(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const last = Buffer.alloc(1);
    const size = fstatSync(fd).size;
    return size === 0 || (readSync(fd, last, 0, 1, size - 1) === 1 && last[0] === 0x0a);
  } finally {
    closeSync(fd);
  }
}

// Runs one victim to its SIGKILL; returns whether the kill left the file ending in a fragment.
async function killMidWrite(file: string): Promise<boolean> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', VICTIM, file], {
    stdio: 'ignore',
  });
  const signal = await new Promise((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
  assert.equal(signal, 'SIGKILL');
  return !endsInNewline(file);
}

describe('session log under SIGKILL', () => {
  it(
    'a producer killed mid-write costs a healthy gateway none of its rows',
    { timeout: 300_000 },
    async (t) => {
      const stack = await startStack();
      const file = stack.sessionLogPath;
      try {
        const request = await fillRequest('clean');
        const answered: string[] = [];
        let stop = false;
        const load = (async () => {
          while (!stop) {
            const res = await postJson(`${stack.gateway.url}/v1/iterate`, request);
            assert.equal(res.status, 200);
            answered.push(String(res.body.trace_id));
          }
        })();
        // Kill until a kill left a fragment (the precondition), at least 12 times.
        await eventually(
          () => (answered.length > 0 ? true : undefined),
          30_000,
          'the gateway answering',
        );
        let kills = 0;
        let torn = 0;
        while (kills < 12 || (torn === 0 && kills < 60)) {
          if (await killMidWrite(file)) torn += 1;
          kills += 1;
        }
        stop = true;
        await load;
        assert.equal(await stack.gateway.stop(), 0);
        const { rows, badLines } = readSessionFile(file);
        assert.ok(
          badLines.length > 0,
          `precondition: no kill out of ${kills} landed inside a write`,
        );
        for (const line of badLines) {
          // A kill can land anywhere in a write, even inside the schema key itself.
          const rowStart = '{"schema":"session.iterate.v1"';
          assert.ok(
            line.startsWith(rowStart) || rowStart.startsWith(line),
            `not a row fragment: ${line.slice(0, 60)}`,
          );
          assert.equal(line.indexOf('{"schema"', 1), -1, 'a row glued onto a fragment');
        }
        const gatewayRows = rows
          .filter((r) => r['daemon'] === 'gateway')
          .map((r) => String(r['session_id']));
        assert.deepEqual(
          gatewayRows.sort(),
          [...answered].sort(),
          'every session the gateway answered, exactly once',
        );
        reportEvidence(t, {
          fault: 'a producer SIGKILLed mid-write 12+ times beside a healthy gateway',
          expectation: 'fragments stay lines of their own; the healthy gateway keeps every row',
          evidence: `${kills} kills, ${badLines.length} fragment line(s), 0 glued; ${gatewayRows.length}/${answered.length} gateway rows`,
        });
      } finally {
        await stack.stop();
      }
    },
  );

  it(
    'a gateway SIGKILLed under load loses only its batch window (measured)',
    { timeout: 120_000 },
    async (t) => {
      const stack = await startStack();
      const file = stack.sessionLogPath;
      const concurrency = 8;
      try {
        const request = await fillRequest('clean');
        const answers: { id: string; at: number }[] = [];
        let failures = 0;
        const client = async (): Promise<void> => {
          for (;;) {
            try {
              const res = await postJson(`${stack.gateway.url}/v1/iterate`, request);
              if (res.status !== 200) throw new Error(String(res.status));
              answers.push({ id: String(res.body.trace_id), at: performance.now() });
            } catch {
              failures += 1;
              return; // the gateway is gone
            }
          }
        };
        const clients = Array.from({ length: concurrency }, client);
        // Each time the file grows, one or more of the gateway's batch writes has landed.
        const writes: number[] = [];
        let size = 0;
        const watcher = setInterval(() => {
          const now = statSync(file, { throwIfNoEntry: false })?.size ?? 0;
          if (now !== size) writes.push(performance.now());
          size = now;
        }, 5);
        // Past a few batches of rows on disk, kill it with sessions in flight.
        await eventually(
          () => (readSessionFile(file).rows.length >= 300 ? true : undefined),
          60_000,
          '300 rows on disk',
        );
        clearInterval(watcher);
        const killedAt = performance.now();
        stack.gateway.child.kill('SIGKILL');
        await Promise.all(clients);
        assert.ok(failures > 0, 'precondition: sessions were in flight at the kill');

        const { rows, badLines } = readSessionFile(file);
        assert.ok(badLines.length <= 1, `at most the write in flight is torn: ${badLines.length}`);
        const present = new Set(rows.map((r) => String(r['session_id'])));
        const lost = answers.filter((a) => !present.has(a.id));
        // Only the newest answers may be missing: rows are written in the order sessions end,
        // and answers to `concurrency` clients overtake each other by at most that many.
        const firstLost = answers.findIndex((a) => !present.has(a.id));
        const keptAfterFirstLost =
          firstLost === -1 ? 0 : answers.slice(firstLost).filter((a) => present.has(a.id)).length;
        assert.ok(
          keptAfterFirstLost <= concurrency,
          `${keptAfterFirstLost} rows survived after a lost one: an older row was lost`,
        );
        // The batch window, counted in writes instead of time: a row is emitted before its answer
        // and goes out in the first batch that starts after it. Of the writes that land after an
        // answer, the first may be a batch already under way, the second is the row's own; a
        // third can only start once that one has finished. So a row followed by 3 observed writes
        // is on disk, and a lost row was at most in the write the kill cut or still queued.
        assert.ok(writes.length >= 3, `precondition: ${writes.length} writes observed`);
        const writesAfterLost = lost.map((a) => writes.filter((w) => w > a.at).length);
        assert.ok(
          writesAfterLost.every((n) => n <= 2),
          `a row answered before ${Math.max(...writesAfterLost)} later writes was lost: older than the batch window`,
        );
        const window = lost.length > 0 ? killedAt - Math.min(...lost.map((a) => a.at)) : 0;
        t.diagnostic(
          `answered 200: ${answers.length}, rows: ${present.size}, lost: ${lost.length} (answered in the last ${window.toFixed(0)} ms before the kill)`,
        );
        reportEvidence(t, {
          fault: 'gateway SIGKILLed under 8-client load',
          expectation:
            'loses only the rows of its batch window (200 ms): the write in flight and what was queued behind it, never older ones',
          evidence: `${answers.length} answered 200; ${lost.length} row(s) lost, each followed by at most ${Math.max(0, ...writesAfterLost)} of the ${writes.length} writes observed, answered in the last ${window.toFixed(0)} ms; ${badLines.length} fragment`,
        });
      } finally {
        await stack.stop();
      }
    },
  );
});
