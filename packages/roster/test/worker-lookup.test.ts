import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkerLookup, isActive, parseCandidateId, sampleContract } from '../src/index.js';
import type { Worker } from '../src/index.js';
import { recordingLogger, tempDir } from './helpers.js';

function worker(id: number, city: string, state: string, role: string, availability = 3): Worker {
  return {
    workerId: String(id),
    candidateId: `W-${id}`,
    name: `Worker ${id}`,
    role,
    city,
    state,
    availability,
    blacklistedClients: [],
  };
}

const WORKERS: Worker[] = [
  worker(10, 'Chicago', 'IL', 'welder'),
  worker(3, 'Chicago', 'IL', 'welder', 0),
  worker(7, 'Chicago', 'IL', 'electrician'),
  worker(1, 'Chicago', 'IL', 'welder'),
  worker(5, 'Houston', 'TX', 'welder'),
  worker(2, 'Chicago', 'IL', 'welder'),
  worker(4, 'Chicago', 'IL', 'welder'),
  worker(6, 'Chicago', 'IL', 'welder', 1),
  worker(8, 'Dallas', 'TX', 'welder'),
];
const ids = (ws: Worker[]): string[] => ws.map((w) => w.candidateId);

void describe('WorkerLookup.load on a bad path', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await tempDir()));
  after(() => cleanup());

  async function assertNotReady(path: string, errorPattern: RegExp): Promise<void> {
    const logger = recordingLogger();
    const lookup = await WorkerLookup.load(path, { logger });
    assert.equal(lookup.ready, false);
    assert.equal(lookup.size, 0);
    assert.equal(lookup.source, path);
    assert.match(lookup.error ?? '', errorPattern);
    assert.equal(lookup.get('W-1'), undefined);
    assert.deepEqual(lookup.find({}, 10), []);
    assert.equal(logger.warnings.length, 1);
    const message = logger.warnings[0]?.message ?? '';
    assert.ok(message.includes(path), 'warning names the path');
    assert.ok(message.includes(`npm run roster -- --rows 2000 --out ${path}`), 'says how to fix');
    assert.equal(lookup.phantomId(3), 'W-4');
    assert.deepEqual(Object.keys(sampleContract(lookup, 0)), ['city', 'state', 'role']);
  }

  void it('gives a not-ready lookup for a missing file, without throwing', async () => {
    await assertNotReady(join(dir, 'missing.parquet'), /not found/);
  });

  void it('gives a not-ready lookup for a garbage Parquet file', async () => {
    const path = join(dir, 'garbage.parquet');
    await writeFile(path, 'this is not parquet at all\n'.repeat(100));
    await assertNotReady(path, /could not be read/);
  });

  void it('gives a not-ready lookup for a CSV without the roster columns', async () => {
    const path = join(dir, 'wrong.csv');
    await writeFile(path, 'id,full_name\n1,Ann\n');
    await assertNotReady(path, /missing column\(s\) worker_id, name.*found id, full_name/);
  });

  void it('gives a not-ready lookup for a CSV with a header only', async () => {
    const path = join(dir, 'empty.csv');
    await writeFile(path, 'worker_id,name,role,city,state,availability,blacklisted_clients\n');
    await assertNotReady(path, /no workers/);
  });

  void it('gives a not-ready lookup for a directory', async () => {
    await assertNotReady(dir, /not a file/);
  });

  void it('warns through process.emitWarning when no logger is given', async () => {
    const path = join(dir, 'nologger.parquet');
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    const lookup = await WorkerLookup.load(path);
    assert.equal(lookup.ready, false);
    const warning = await warned;
    assert.match(warning.message, /ROSTER NOT LOADED/);
    assert.ok(warning.message.includes(path));
  });
});

void describe('WorkerLookup.fromWorkers', () => {
  const lookup = WorkerLookup.fromWorkers(WORKERS, 'fixture');

  void it('is ready and indexes every worker by candidate id', () => {
    assert.equal(lookup.ready, true);
    assert.equal(lookup.size, WORKERS.length);
    assert.equal(lookup.source, 'fixture');
    assert.equal(lookup.activeCount, WORKERS.filter(isActive).length);
    assert.equal(lookup.get('W-7')?.role, 'electrician');
    for (const bad of ['W-07', 'w-7', '7', 'W-', 'W-7 ', 'W-99', '']) {
      assert.equal(lookup.get(bad), undefined, bad);
    }
  });

  void it('find filters by contract in ascending worker_id order', () => {
    const contract = { city: 'Chicago', state: 'IL', role: 'welder' };
    assert.deepEqual(ids(lookup.find(contract, 100)), ['W-1', 'W-2', 'W-3', 'W-4', 'W-6', 'W-10']);
    assert.deepEqual(ids(lookup.find({ ...contract, activeOnly: true }, 100)), [
      'W-1',
      'W-2',
      'W-4',
      'W-6',
      'W-10',
    ]);
    assert.deepEqual(ids(lookup.find({ ...contract, activeOnly: true }, 2, 1)), ['W-2', 'W-4']);
    assert.deepEqual(ids(lookup.find({ ...contract, activeOnly: true }, 10, 4)), ['W-10']);
    assert.deepEqual(ids(lookup.find({ ...contract, activeOnly: true }, 10, 5)), []);
    assert.deepEqual(lookup.find(contract, 0), []);
  });

  void it('find matches case-insensitively and with partial filters', () => {
    assert.deepEqual(ids(lookup.find({ city: ' chicago', state: 'il', role: 'WELDER' }, 2)), [
      'W-1',
      'W-2',
    ]);
    assert.deepEqual(ids(lookup.find({ state: 'TX' }, 10)), ['W-5', 'W-8']);
    assert.deepEqual(ids(lookup.find({ role: 'welder', city: 'Houston' }, 10)), ['W-5']);
    assert.deepEqual(ids(lookup.find({ city: 'Chicago', role: 'electrician' }, 10)), ['W-7']);
    assert.deepEqual(lookup.find({ city: 'Nowhere', state: 'IL', role: 'welder' }, 10), []);
    assert.equal(lookup.find({}, 100).length, WORKERS.length);
  });

  void it('phantomId is never in the roster and is deterministic', () => {
    for (const seed of [0, 1, 999, 1000, 123456, -5, 2.7, Number.NaN]) {
      const id = lookup.phantomId(seed);
      assert.equal(lookup.get(id), undefined, id);
      assert.equal(lookup.phantomId(seed), id);
      assert.ok((parseCandidateId(id) ?? 0) > 10, id);
    }
    assert.equal(lookup.phantomId(0), 'W-11');
    assert.equal(lookup.phantomId(1001), 'W-12');
  });

  void it('sampleContract picks a combination with at least 5 active workers', () => {
    for (const seed of [0, 1, 2, 99]) {
      const contract = sampleContract(lookup, seed);
      assert.deepEqual(contract, { city: 'Chicago', state: 'IL', role: 'welder' });
      assert.ok(lookup.find({ ...contract, activeOnly: true }, 100).length >= 5);
    }
  });

  void it('sampleContract falls back to the best-staffed combination in a tiny roster', () => {
    const tiny = WorkerLookup.fromWorkers([
      worker(1, 'Reno', 'NV', 'welder'),
      worker(2, 'Denver', 'CO', 'welder'),
      worker(3, 'Denver', 'CO', 'welder'),
    ]);
    assert.deepEqual(sampleContract(tiny, 5), { city: 'Denver', state: 'CO', role: 'welder' });
  });

  void it('an empty roster is not ready', () => {
    const empty = WorkerLookup.fromWorkers([]);
    assert.equal(empty.ready, false);
    assert.match(empty.error ?? '', /no workers/);
    assert.equal(empty.phantomId(0), 'W-1');
  });
});
