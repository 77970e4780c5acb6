// Figure 3: session-log rows/s vs pino writing the same objects to a file, both in this process.
// Each batch emits `rowsPerBatch` records and waits until they are on disk (SessionLog.forceFlush,
// pino's SonicBoom flush). tinybench drives the rounds, one Bench per round, sides alternating.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Bench } from 'tinybench';
import { createSessionLog } from '@lakehouse/session-log';
import { fmt, median, progress, verdict } from './common.mjs';
import { performance } from 'node:perf_hooks';

/** A realistic mix of session records (the camelCase objects the gateway emits). */
export function sessionEntries(count) {
  const out = [];
  for (let i = 0; i < count; i++) {
    const phantom = i % 3 === 0;
    const attempts = phantom
      ? [
          {
            iteration: 0,
            verdictKind: 'validation_failed',
            error: `candidate_id W-${2000 + (i % 97)} not in roster`,
            spanId: '46675c33cffcf156',
          },
          { iteration: 1, verdictKind: 'accepted', spanId: '8cbc2674bc85cbd9' },
        ]
      : [{ iteration: 0, verdictKind: 'accepted', spanId: '8cbc2674bc85cbd9' }];
    out.push({
      sessionId: (i.toString(16) + '5eb47df9a9ff668fcebb16735cafa877').slice(0, 32),
      kind: 'fill',
      model: phantom ? 'phantom-once' : 'clean',
      provider: 'sim',
      prompt: 'Staff 3 picker packers in Allentown, PA for client C-007.',
      iterations: attempts.length,
      maxIterations: 3,
      finalVerdict: 'accepted',
      attempts,
      artifact: {
        fills: [
          { candidate_id: 'W-395', name: 'Patricia Garcia' },
          { candidate_id: 'W-460', name: 'Susan Washington' },
          { candidate_id: 'W-785', name: "Luis O'Brien" },
        ],
      },
      groundedInRoster: true,
      durationMs: 20 + (i % 40),
    });
  }
  return out;
}

export async function figure3(sizes) {
  const { rowsPerBatch, batchesPerRound, rounds } = sizes;
  const dir = mkdtempSync(path.join(tmpdir(), 'lakehouse-bench-log-'));
  const entries = sessionEntries(rowsPerBatch);
  const logPath = path.join(dir, 'sessions.jsonl');
  const pinoPath = path.join(dir, 'pino.jsonl');
  // Large enough that the bench never drops a row; the default scheduling otherwise.
  const sessionLog = createSessionLog({
    path: logPath,
    maxQueueSize: Math.max(10_000, rowsPerBatch * 2),
  });
  const destination = pino.destination({ dest: pinoPath, sync: false, mkdir: true });
  const logger = pino({ base: null }, destination);
  const pinoFlush = () =>
    new Promise((resolve, reject) => destination.flush((err) => (err ? reject(err) : resolve())));

  const sides = {
    'session-log': async () => {
      for (const e of entries) sessionLog.emit(e);
      await sessionLog.forceFlush();
    },
    pino: async () => {
      for (const e of entries) logger.info(e);
      await pinoFlush();
    },
  };
  const names = Object.keys(sides);
  const perRound = Object.fromEntries(names.map((n) => [n, []]));
  try {
    for (const name of names) for (let i = 0; i < 3; i++) await sides[name]();
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? names : [...names].reverse();
      const bench = new Bench({
        iterations: batchesPerRound,
        time: 0,
        warmup: false,
        throws: true,
      });
      const ms = Object.fromEntries(names.map((n) => [n, 0]));
      for (const name of order) {
        bench.add(name, async () => {
          const t0 = performance.now();
          await sides[name]();
          const took = performance.now() - t0;
          ms[name] += took;
          return { overriddenDuration: took };
        });
      }
      await bench.run();
      for (const n of names) perRound[n].push((batchesPerRound * rowsPerBatch) / (ms[n] / 1000));
      progress(
        `figure 3: round ${round + 1}/${rounds}: ` +
          names.map((n) => `${n} ${fmt(perRound[n].at(-1))} rows/s`).join(', '),
      );
    }
    await sessionLog.shutdown();
    const stats = sessionLog.stats();
    await pinoFlush();
    const ratios = perRound['session-log'].map((v, i) => v / perRound.pino[i]);
    const ratio = median(ratios);
    const ours = median(perRound['session-log']);
    const theirs = median(perRound.pino);
    const bytes = { session_log: statSync(logPath).size, pino: statSync(pinoPath).size };
    return {
      id: 3,
      name: 'session-log rows/s vs pino to a file',
      measured: ratio,
      display: `${fmt(ratio, 2)}x`,
      target: '>= 1.00x',
      status: verdict(ratio, ratio >= 1 && stats.dropped === 0 && stats.failed === 0),
      context: `session-log ${fmt(ours)} rows/s, pino ${fmt(theirs)} rows/s; ${fmt(rowsPerBatch)}-row batches incl. flush; ${fmt(stats.written)} rows written, ${stats.dropped} dropped`,
      details: {
        rows_per_s: { session_log: ours, pino: theirs },
        per_round_ratio: ratios,
        rows_per_batch: rowsPerBatch,
        stats,
        bytes,
      },
    };
  } finally {
    await sessionLog.shutdown();
    destination.end();
    rmSync(dir, { recursive: true, force: true });
  }
}
