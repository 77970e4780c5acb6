// Encoder vs JSON.stringify vs pino on one typical row: node packages/session-log/bench/encode-bench.mjs (after tsc -b).
import { Bench } from 'tinybench';
import pino from 'pino';
import { encodeSessionRecord } from '../dist/src/index.js';
const record = { sessionId: '4bf92f3577b34da6a3ce929d0e0e4736', timestamp: '2026-05-02T07:30:00.123456Z', daemon: 'gateway', kind: 'fill', model: 'phantom-once', provider: 'sim',
  prompt: 'Fill 2 forklift operators in Toledo, OH. '.repeat(20), iterations: 2, maxIterations: 3, finalVerdict: 'accepted',
  attempts: [{ iteration: 0, verdictKind: 'validation_failed', error: 'candidate_id W-999999 not in roster', spanId: '00f067aa0ba902b7' }, { iteration: 1, verdictKind: 'accepted', spanId: '53995c3f42cd8ad8' }],
  artifact: { fills: [{ name: 'Ana Ruiz', candidate_id: 'W-17' }, { name: 'Bo Chen', candidate_id: 'W-42' }] }, groundedInRoster: true, durationMs: 1234 };
const sink = { write() {} };
const logger = pino({ base: null, timestamp: false }, sink);
const b = new Bench({ time: 1000 });
b.add('encodeSessionRecord', () => encodeSessionRecord(record));
b.add('JSON.stringify(record)', () => JSON.stringify(record));
b.add('pino.info(record) to a null sink', () => logger.info(record));
await b.run();
console.table(b.table());
