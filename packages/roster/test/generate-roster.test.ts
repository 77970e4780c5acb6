import assert from 'node:assert/strict';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkerLookup, generateRoster, isActive, sampleContract } from '../src/index.js';
import { recordingLogger, runSql, tempDir } from './helpers.js';

void describe('generateRoster + WorkerLookup.load at 500,000 rows (Parquet)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let lookup: WorkerLookup;
  let generateMs: number;
  const progress: string[] = [];

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    const path = join(dir, 'roster.parquet');
    const result = await generateRoster({
      rows: 500_000,
      out: path,
      seed: 42,
      onProgress: (m) => progress.push(m),
    });
    generateMs = result.ms;
    assert.deepEqual({ rows: result.rows, path: result.path }, { rows: 500_000, path });
    lookup = await WorkerLookup.load(path, { logger: recordingLogger() });
  });
  after(() => cleanup());

  // Load speed is figure 4 of `npm run bench`, not a test assertion.
  void it('loads every row, ready', (t) => {
    t.diagnostic(`generate ${generateMs} ms, load ${lookup.loadMs} ms`);
    assert.equal(lookup.ready, true);
    assert.equal(lookup.error, undefined);
    assert.equal(lookup.size, 500_000);
    assert.ok(progress.some((m) => m.startsWith('generating 500000 workers')));
    assert.ok(progress.some((m) => m.startsWith('wrote 500000 workers')));
  });

  void it('keeps specific workers stable for seed 42', () => {
    assert.deepEqual(lookup.get('W-1'), {
      workerId: '1',
      candidateId: 'W-1',
      name: 'Keisha Wilson',
      role: 'assembler',
      city: 'Dallas',
      state: 'TX',
      availability: 5,
      blacklistedClients: [],
    });
    assert.deepEqual(lookup.get('W-12345'), {
      workerId: '12345',
      candidateId: 'W-12345',
      name: 'Karen Walker',
      role: 'picker packer',
      city: 'Los Angeles',
      state: 'CA',
      availability: 3,
      blacklistedClients: [],
    });
    assert.deepEqual(lookup.get('W-83')?.blacklistedClients, ['C-030']);
    assert.equal(lookup.get('W-500000')?.name, 'Susan Martinez');
    assert.equal(lookup.get('W-500001'), undefined);
    assert.equal(lookup.get('W-0'), undefined);
  });

  void it('has plausible shares of active and blacklisting workers', () => {
    const all = lookup.find({}, Infinity);
    assert.equal(all.length, 500_000);
    const activeShare = lookup.activeCount / lookup.size;
    assert.ok(activeShare > 0.82 && activeShare < 0.88, `active share ${activeShare}`);
    assert.equal(all.filter(isActive).length, lookup.activeCount);
    const blacklisting = all.filter((w) => w.blacklistedClients.length > 0);
    const share = blacklisting.length / all.length;
    assert.ok(share > 0.04 && share < 0.06, `blacklist share ${share}`);
    for (const w of blacklisting) {
      assert.ok(w.blacklistedClients.length <= 2);
      assert.equal(new Set(w.blacklistedClients).size, w.blacklistedClients.length);
      for (const c of w.blacklistedClients) assert.match(c, /^C-0(0[1-9]|[1-4][0-9]|50)$/);
    }
    assert.ok(all.every((w) => w.availability >= 0 && w.availability <= 5));
    assert.ok(new Set(all.map((w) => w.name)).size > 1000, 'names vary');
    assert.ok(new Set(all.map((w) => `${w.city}|${w.state}`)).size === 25);
    assert.ok(new Set(all.map((w) => w.role)).size === 12);
  });

  void it('finds workers of a sampled contract in worker_id order', () => {
    const contract = sampleContract(lookup, 7);
    const found = lookup.find({ ...contract, activeOnly: true }, 50);
    assert.equal(found.length, 50);
    for (let i = 1; i < found.length; i++) {
      assert.ok(Number(found[i]?.workerId) > Number(found[i - 1]?.workerId));
    }
    assert.ok(
      found.every((w) => isActive(w) && w.city === contract.city && w.role === contract.role),
    );
    const phantom = lookup.phantomId(7);
    assert.equal(phantom, 'W-500008');
    assert.equal(lookup.get(phantom), undefined);
  });
});

void describe('generateRoster determinism', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await tempDir()));
  after(() => cleanup());

  void it('writes byte-identical files for the same rows and seed, Parquet and CSV', async () => {
    for (const ext of ['parquet', 'csv']) {
      const a = join(dir, `a.${ext}`);
      const b = join(dir, `b.${ext}`);
      await generateRoster({ rows: 20_000, out: a, seed: 7 });
      await generateRoster({ rows: 20_000, out: b, seed: 7 });
      assert.ok((await readFile(a)).equals(await readFile(b)), `${ext} differs`);
    }
  });

  void it('writes different files for different seeds', async () => {
    const a = join(dir, 's1.parquet');
    const b = join(dir, 's2.parquet');
    await generateRoster({ rows: 2_000, out: a, seed: 1 });
    await generateRoster({ rows: 2_000, out: b, seed: 2 });
    assert.ok(!(await readFile(a)).equals(await readFile(b)));
    const la = await WorkerLookup.load(a, { logger: recordingLogger() });
    const lb = await WorkerLookup.load(b, { logger: recordingLogger() });
    const differing = la.find({}, Infinity).filter((w) => lb.get(w.candidateId)?.name !== w.name);
    assert.ok(differing.length > 1_500, `only ${differing.length} names differ`);
  });

  void it('leaves no temp files behind and creates missing directories', async () => {
    const out = join(dir, 'nested', 'deeper', 'r.parquet');
    await generateRoster({ rows: 10, out });
    assert.ok((await stat(out)).size > 0);
    assert.deepEqual(await readdir(join(dir, 'nested', 'deeper')), ['r.parquet']);
  });

  void it('rejects invalid options', async () => {
    await assert.rejects(generateRoster({ rows: 0, out: join(dir, 'x.parquet') }), /rows/);
    await assert.rejects(generateRoster({ rows: 1.5, out: join(dir, 'x.parquet') }), /rows/);
    await assert.rejects(
      generateRoster({ rows: 5, out: join(dir, 'x.parquet'), seed: -1 }),
      /seed/,
    );
    await assert.rejects(generateRoster({ rows: 5, out: '' }), /out/);
  });
});

void describe('CSV and LIST-column rosters', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let parquet: WorkerLookup;
  before(async () => {
    ({ dir, cleanup } = await tempDir());
    await generateRoster({ rows: 3_000, out: join(dir, 'r.parquet'), seed: 11 });
    parquet = await WorkerLookup.load(join(dir, 'r.parquet'), { logger: recordingLogger() });
  });
  after(() => cleanup());

  void it('round-trips CSV to the same workers as Parquet', async () => {
    const path = join(dir, 'r.csv');
    await generateRoster({ rows: 3_000, out: path, seed: 11 });
    const header = (await readFile(path, 'utf8')).split('\n')[0];
    assert.equal(header, 'worker_id,name,role,city,state,availability,blacklisted_clients');
    const csv = await WorkerLookup.load(path, { logger: recordingLogger() });
    assert.equal(csv.ready, true);
    assert.equal(csv.size, 3_000);
    assert.deepEqual(csv.find({}, Infinity), parquet.find({}, Infinity));
    assert.ok(csv.find({}, Infinity).some((w) => w.blacklistedClients.length === 2));
    assert.ok(
      csv.find({}, Infinity).some((w) => /[^\p{ASCII}]/u.test(w.name)),
      'UTF-8 names survive',
    );
  });

  void it('accepts blacklisted_clients as a LIST column', async () => {
    const listPath = join(dir, 'list.parquet');
    const src = join(dir, 'r.parquet').replaceAll("'", "''");
    await runSql(`COPY (SELECT * REPLACE (
        CASE WHEN blacklisted_clients = '' THEN []::VARCHAR[]
             ELSE string_split(blacklisted_clients, ';') END AS blacklisted_clients)
      FROM read_parquet('${src}')) TO '${listPath.replaceAll("'", "''")}' (FORMAT parquet)`);
    const list = await WorkerLookup.load(listPath, { logger: recordingLogger() });
    assert.equal(list.ready, true);
    assert.deepEqual(list.find({}, Infinity), parquet.find({}, Infinity));
  });

  void it('skips rows without a worker_id and reports them', async () => {
    const path = join(dir, 'hand.csv');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(
      path,
      'worker_id,name,role,city,state,availability,blacklisted_clients\n' +
        '2,"Doe, Jane",welder,Chicago,IL,3,C-001;C-002\n' +
        'oops,Nobody,welder,Chicago,IL,3,\n' +
        '1,John Roe,welder,Chicago,IL,0,\n',
    );
    const logger = recordingLogger();
    const lookup = await WorkerLookup.load(path, { logger });
    assert.equal(lookup.ready, true);
    assert.deepEqual(
      lookup.find({}, 10).map((w) => [w.candidateId, w.name, w.availability, w.blacklistedClients]),
      [
        ['W-1', 'John Roe', 0, []],
        ['W-2', 'Doe, Jane', 3, ['C-001', 'C-002']],
      ],
    );
    assert.equal(logger.warnings.length, 1);
    assert.equal(logger.warnings[0]?.meta?.['rowsWithoutWorkerId'], 1);
  });
});
