import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  MAX_LINE_BYTES,
  SessionLogNotFoundError,
  checkSessionAlarm,
  encodeSessionRecord,
  runSessionAlarm,
  runSessionReport,
  runSessionSql,
} from '../src/index.js';
import type { SessionRecord } from '../src/index.js';
import { expectedLines, runSessionsCli, sqlJson } from './helpers.js';

function row(i: number, overrides: Partial<SessionRecord> = {}): string {
  const accepted = i % 4 !== 3;
  return encodeSessionRecord({
    sessionId: i.toString(16).padStart(32, '0'),
    timestamp: `2026-05-02T07:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.000000Z`,
    daemon: 'gateway',
    kind: i % 5 === 0 ? 'email' : 'fill',
    model: i % 2 === 0 ? 'clean' : 'phantom-once',
    provider: 'sim',
    prompt: `prompt ${i}`,
    iterations: accepted ? 1 + (i % 2) : 3,
    maxIterations: 3,
    finalVerdict: accepted ? 'accepted' : 'max_iter_exhausted',
    attempts: accepted
      ? i % 2 === 1
        ? [
            {
              iteration: 0,
              verdictKind: 'validation_failed',
              error: 'candidate_id W-999999 not in roster',
            },
            { iteration: 1, verdictKind: 'accepted' },
          ]
        : [{ iteration: 0, verdictKind: 'accepted' }]
      : [
          {
            iteration: 0,
            verdictKind: 'validation_failed',
            error: 'candidate_id W-999999 not in roster',
          },
          { iteration: 1, verdictKind: 'no_json', error: 'no JSON' },
          { iteration: 2, verdictKind: 'validation_failed', error: 'fills: expected 2, got 1' },
        ],
    ...(accepted ? { artifact: { fills: [{ candidate_id: `W-${i}` }] } } : {}),
    groundedInRoster: accepted && i % 5 !== 0 ? true : null,
    durationMs: i,
    ...overrides,
  });
}

let dir: string;
let clean: string;
let garbage: string;
let bad: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'session-log-duck-'));
  clean = join(dir, 'clean.jsonl');
  garbage = join(dir, 'garbage.jsonl');
  bad = join(dir, 'bad.jsonl');
  let text = '';
  for (let i = 0; i < 400; i++) text += row(i);
  writeFileSync(clean, text);
  // A torn write, garbage, an empty line (a writer starting on a fresh line), another schema.
  writeFileSync(
    garbage,
    row(1) +
      row(2).slice(0, 50) +
      '\n' +
      'not json at all\n\n' +
      '{"schema":"other.v1"}\n' +
      row(3),
  );
  writeFileSync(
    bad,
    row(1000) + row(1001, { groundedInRoster: false }) + row(1005, { groundedInRoster: false }),
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('DuckDB queries', () => {
  it('report: verdict mix, attempts, percentiles and top validation errors', async () => {
    const report = await runSessionReport(clean);
    assert.equal(report.totals['sessions'], 400);
    assert.equal(report.totals['accepted'], 300);
    const total = report.verdictMix.reduce((n, r) => n + Number(r['sessions']), 0);
    assert.equal(total, 400);
    const fillClean = report.verdictMix.find((r) => r['kind'] === 'fill' && r['model'] === 'clean');
    assert.ok(fillClean !== undefined);
    assert.deepEqual(
      report.attempts.map((r) => [r['iterations'], r['sessions']]),
      [
        [1, 200],
        [2, 100],
        [3, 100],
      ],
    );
    const all = report.durations.find((r) => r['kind'] === '(all)');
    assert.equal(all?.['p50_ms'], 199.5);
    assert.equal(all?.['max_ms'], 399);
    assert.equal(report.topValidationErrors[0]?.['error'], 'candidate_id W-999999 not in roster');
    assert.equal(report.topValidationErrors[0]?.['attempts'], 200);
    assert.equal(report.topValidationErrors[1]?.['error'], 'fills: expected 2, got 1');
  });

  it('report counts every line it could not read and reads the rest', async () => {
    const report = await runSessionReport(garbage);
    assert.deepEqual(report.lines, expectedLines({ rows: 2, unreadable: 2, otherSchema: 1 }));
    assert.equal(report.totals['sessions'], 2);
    assert.deepEqual(
      report.daemons.map((d) => [d['daemon'], d['sessions']]),
      [['gateway', 2]],
    );
    assert.deepEqual((await runSessionReport(clean)).lines, expectedLines({ rows: 400 }));
  });

  it('alarm: empty on a clean log, the offending rows otherwise (email rows never count)', async () => {
    assert.deepEqual(await runSessionAlarm(clean), []);
    const rows = await runSessionAlarm(bad);
    assert.deepEqual(
      rows.map((r) => r['session_id']),
      [(1001).toString(16).padStart(32, '0')],
    );
  });

  it('reads a glob of several files and keys first seen after the sample', async () => {
    const late = join(dir, 'late.jsonl');
    let text = '';
    for (let i = 0; i < 21_000; i++)
      text += row(3, {
        attempts: [],
        finalVerdict: 'infra_error',
        artifact: undefined,
        groundedInRoster: null,
      });
    text += row(1);
    writeFileSync(late, text);
    const {
      rows: [count],
    } = await runSessionSql(
      join(dir, '*.jsonl'),
      'SELECT count(*) AS n, count(artifact) AS with_artifact FROM sessions',
    );
    assert.equal(count?.['n'], 400 + 3 + 2 + 21_001);
    assert.equal(count?.['with_artifact'], 300 + 3 + 1 + 1);
    rmSync(late);
  });

  it('a torn row cut anywhere costs only its own line, never the next producer row', async () => {
    // DuckDB lets a value run on past the line's end: a fragment cut after `:` or `[` would
    // take the next line, another producer's intact row, with it.
    const torn = row(1);
    const intact = row(1001, { groundedInRoster: false });
    const cuts = Array.from({ length: torn.length - 2 }, (_, i) => i + 1);
    assert.ok(cuts.some((cut) => torn.slice(0, cut).endsWith(':')));
    const file = join(dir, 'torn-everywhere.jsonl');
    writeFileSync(file, cuts.map((cut) => torn.slice(0, cut) + '\n' + intact).join(''));
    const tornLines = expectedLines({ rows: cuts.length, unreadable: cuts.length });
    assert.deepEqual((await runSessionReport(file)).lines, tornLines);
    const alarm = await checkSessionAlarm(file);
    assert.deepEqual(alarm.lines, tornLines);
    assert.equal(alarm.found, cuts.length);
    rmSync(file);
  });

  it('a missing file is a SessionLogNotFoundError', async () => {
    await assert.rejects(runSessionReport(join(dir, 'nope.jsonl')), SessionLogNotFoundError);
    await assert.rejects(runSessionAlarm(join(dir, 'nope-*.jsonl')), SessionLogNotFoundError);
  });
});

describe('reports over generated hostile logs', () => {
  // One line of a log: a valid row with hostile strings, a torn row, garbage (invalid UTF-8,
  // controls, JSON scalars), an empty line, or a row of another schema.
  const hostileText = fc.string({ unit: 'binary', maxLength: 30 });
  const wrongTyped: fc.Arbitrary<unknown> = fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(2 ** 64 * 3, -(2 ** 70)),
    fc.constant([]),
    fc.constant([false]),
    fc.constant({}),
  );
  // Whether `value` is of the type the schema gives `field` (then it is no malformed case).
  const fitsField = (field: string, value: unknown): boolean => {
    if (field === 'grounded_in_roster') return typeof value === 'boolean';
    if (field === 'attempts') return Array.isArray(value);
    return typeof value === 'number' && Number.isSafeInteger(value);
  };
  const logLine = fc.oneof(
    fc
      .tuple(fc.nat(5000), hostileText, hostileText, fc.boolean())
      .map(([i, model, error, grounded]) => ({
        kind: 'row' as const,
        bytes: Buffer.from(
          row(i, {
            model,
            groundedInRoster: grounded,
            attempts: [{ iteration: 0, verdictKind: 'validation_failed', error }],
          }),
        ),
        ungrounded: i % 4 !== 3 && i % 5 !== 0 && !grounded,
      })),
    fc.tuple(fc.nat(5000), fc.integer({ min: 1, max: 200 })).map(([i, cut]) => {
      const full = row(i);
      return {
        kind: 'unreadable' as const,
        bytes: Buffer.from(full.slice(0, Math.min(cut, full.length - 2)) + '\n'),
      };
    }),
    fc
      .oneof(
        fc
          .uint8Array({ maxLength: 40 })
          .map((b) =>
            Buffer.concat([
              Buffer.from('x'),
              Buffer.from(b.filter((c) => c !== 0x0a)),
              Buffer.from('\n'),
            ]),
          ),
        fc
          .constantFrom('1', '[1]', '"s"', 'null', '{}', '{"session_id":5}')
          .map((t) => Buffer.from(t + '\n')),
      )
      .map((bytes) => ({ kind: 'unreadable' as const, bytes })),
    // A row that parses but holds a field of the wrong type (DuckDB NULLs only that field).
    fc
      .tuple(
        fc.nat(5000),
        fc.boolean(),
        fc.constantFrom(
          'iterations',
          'max_iterations',
          'duration_ms',
          'grounded_in_roster',
          'attempts',
        ),
        wrongTyped,
      )
      .filter(([, , field, value]) => fitsField(field, value) === false)
      .map(([i, grounded, field, value]) => {
        const fields = JSON.parse(row(i, { groundedInRoster: grounded })) as Record<
          string,
          unknown
        >;
        fields[field] = value;
        const acceptedFill = i % 4 !== 3 && i % 5 !== 0;
        return {
          kind: 'malformed' as const,
          bytes: Buffer.from(JSON.stringify(fields) + '\n'),
          ungrounded: acceptedFill && field !== 'grounded_in_roster' && !grounded,
          undecided: acceptedFill && field === 'grounded_in_roster',
        };
      }),
    fc.constant({ kind: 'empty' as const, bytes: Buffer.from('\n') }),
    fc.constant({ kind: 'other' as const, bytes: Buffer.from('{"schema":"other.v1","x":1}\n') }),
  );

  it(
    'count every line and every malformed row, never skip one silently, and never fail the whole file',
    { timeout: 120_000 },
    async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(logLine, { maxLength: 30 }), async (lines) => {
          const file = join(dir, `generated-${n++}.jsonl`);
          writeFileSync(file, Buffer.concat(lines.map((l) => l.bytes)));
          const count = (kind: string): number => lines.filter((l) => l.kind === kind).length;
          const report = await runSessionReport(file);
          assert.deepEqual(
            report.lines,
            expectedLines({
              rows: count('row') + count('malformed'),
              unreadable: count('unreadable'),
              otherSchema: count('other'),
              malformed: count('malformed'),
            }),
          );
          const alarm = await checkSessionAlarm(file);
          assert.equal(
            alarm.found,
            lines.filter((l) => (l.kind === 'row' || l.kind === 'malformed') && l.ungrounded)
              .length,
          );
          assert.equal(
            alarm.undecided,
            lines.filter((l) => l.kind === 'malformed' && l.undecided).length,
          );
          rmSync(file);
        }),
        { numRuns: 25 },
      );
    },
  );
});

describe('sessions CLI', () => {
  it('report prints aligned tables; --json prints the report object', async () => {
    const text = await runSessionsCli(['report', '--file', clean]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /verdict mix by kind \/ model \/ provider/);
    assert.match(text.stdout, /candidate_id W-999999 not in roster/);
    const json = await runSessionsCli(['report', '--file', clean, '--json']);
    assert.equal(
      (JSON.parse(json.stdout) as { totals: { sessions: number } }).totals.sessions,
      400,
    );
  });

  it('alarm exits 0 with OK on a clean log and 1 with the rows otherwise', async () => {
    const ok = await runSessionsCli(['alarm'], { SESSION_LOG_PATH: clean });
    assert.equal(ok.code, 0);
    assert.equal(ok.stdout, 'OK: no ungrounded accepted fills in 400 rows\n');
    const alarm = await runSessionsCli(['alarm', '--file', bad]);
    assert.equal(alarm.code, 1);
    assert.match(alarm.stdout, /ALARM: 1 accepted fill row/);
    assert.match(alarm.stdout, /000000000000000000000000000003e9/);
    const json = await runSessionsCli(['alarm', '--file', bad, '--json']);
    assert.equal(json.code, 1);
    assert.equal((JSON.parse(json.stdout) as { ok: boolean }).ok, false);
  });

  it('sql runs against the sessions view', async () => {
    assert.deepEqual(
      await sqlJson('SELECT kind, count(*) AS n FROM sessions GROUP BY kind ORDER BY kind', clean),
      [
        { kind: 'email', n: 80 },
        { kind: 'fill', n: 320 },
      ],
    );
  });

  it('alarm exits 2 "could not check" past unreadable lines, unless --max-unreadable tolerates them', async () => {
    const unchecked = await runSessionsCli(['alarm', '--file', garbage]);
    assert.equal(unchecked.code, 2, unchecked.stdout + unchecked.stderr);
    assert.match(
      unchecked.stdout,
      /^UNCHECKED: 2 line\(s\) not read: 2 unreadable .*none of the 2 rows read/,
    );
    const tolerated = await runSessionsCli(['alarm', '--file', garbage, '--max-unreadable', '2']);
    assert.equal(tolerated.code, 0);
    assert.match(tolerated.stdout, /^OK: .*\nWARNING: 2 line\(s\) not read/);
    const report = await runSessionsCli(['report', '--file', garbage]);
    assert.equal(report.code, 0);
    assert.match(
      report.stdout,
      /WARNING: 2 line\(s\) not read: 2 unreadable \(torn write, not JSON, or not a session row\)/,
    );
    assert.match(report.stdout, /note: 1 row\(s\) of another schema/);
  });

  it(
    'a line too long to read is counted as oversized; the rest still reads',
    { timeout: 60_000 },
    async () => {
      const huge = join(dir, 'huge.jsonl');
      // Past DuckDB's limit (about twice MAX_LINE_BYTES); built by hand, the encoder caps prompts.
      const longRow = row(2).replace(
        '"prompt":"prompt 2"',
        `"prompt":"${'y'.repeat(MAX_LINE_BYTES * 2 + 10)}"`,
      );
      writeFileSync(huge, row(1) + longRow + row(1001, { groundedInRoster: false }));
      const check = await checkSessionAlarm(huge);
      assert.deepEqual(check.lines, expectedLines({ rows: 2, oversized: 1 }));
      assert.equal(check.rows.length, 1);
      const cli = await runSessionsCli(['alarm', '--file', huge]);
      assert.equal(cli.code, 1);
      assert.match(cli.stdout, /WARNING: 1 line\(s\) not read: 1 over 32 MiB/);
      rmSync(huge);
    },
  );

  it('prints client strings with terminal escapes neutralised (CSI, OSC 52, C1, bidi)', async () => {
    const hostile = join(dir, 'hostile.jsonl');
    const evil = '\u001b[2J\u001b]52;c;ZXZpbA==\u0007\u009b31m\u202egnp.exe';
    writeFileSync(
      hostile,
      row(1001, {
        model: evil,
        groundedInRoster: false,
        attempts: [{ iteration: 0, verdictKind: 'validation_failed', error: evil }],
      }),
    );
    for (const args of [
      ['report'],
      ['alarm'],
      ['alarm', '--json'],
      ['report', '--json'],
      ['sql', 'SELECT model, attempts FROM sessions'],
    ]) {
      const out = await runSessionsCli([...args, '--file', hostile]);
      assert.doesNotMatch(
        out.stdout,
        // eslint-disable-next-line no-control-regex
        /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/,
        args.join(' '),
      );
      assert.match(out.stdout, /\\(x1b|u001b)\[2J/, args.join(' '));
    }
  });

  it('a missing file, a directory, a FIFO or bad usage is one clear message and exit 2', async () => {
    const missing = await runSessionsCli(['report', '--file', join(dir, 'missing.jsonl')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /session log not found: .*missing\.jsonl/);
    const directory = await runSessionsCli(['alarm', '--file', dir]);
    assert.equal(directory.code, 2);
    assert.match(directory.stderr, /is a directory, not a session log/);
    const fifo = join(dir, 'sessions.fifo');
    execFileSync('mkfifo', [fifo]);
    const fromFifo = await runSessionsCli(['report', '--file', fifo]);
    assert.equal(fromFifo.code, 2);
    assert.match(fromFifo.stderr, /is a FIFO, not a session log/);
    rmSync(fifo);
    const usage = await runSessionsCli(['frobnicate']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /unknown command/);
  });
});
