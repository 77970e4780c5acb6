// Rows that parse but hold a field of the wrong type: DuckDB's ignore_errors turns only that
// field into NULL, so the reports must count such rows, and the alarm cannot call an accepted
// fill grounded when its grounded_in_roster is not a boolean.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROW_TEXTS, runSessionsCli, sqlJson } from './helpers.js';

// One row as a producer writes it, with `fields` (raw JSON texts) in place of the defaults.
function row(id: string, fields: Record<string, string> = {}): string {
  const values: Record<string, string> = {
    ...ROW_TEXTS,
    session_id: JSON.stringify(id),
    ...fields,
  };
  return `{${Object.entries(values)
    .map(([k, v]) => `"${k}":${v}`)
    .join(',')}}\n`;
}

interface AlarmJson {
  code: number;
  found: number;
  undecided: number;
  undecidedRows: { session_id: string }[];
  lines: { rows: number; malformed: number; unreadable: number };
}

let dir: string;

// Writes `rows` as the log `name` in the test's directory and returns its path.
function logFile(name: string, rows: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, rows.join(''));
  return file;
}

let undecidable: string;
let harmless: string;
let wide: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'session-log-malformed-'));
  // Accepted fills whose grounding is not a boolean: none of them may pass as grounded.
  undecidable = logFile('undecidable.jsonl', [
    row('ok-1'),
    row('nope', { grounded_in_roster: '"nope"' }),
    row('list', { grounded_in_roster: '[false]' }),
    row('object', { grounded_in_roster: '{}' }),
    row('ok-2'),
  ]);
  // Malformed fields outside the alarm's rule: counted, but the alarm can still decide.
  harmless = logFile('harmless.jsonl', [
    row('email', { kind: '"email"', grounded_in_roster: '"nope"' }),
    row('fraction', { iterations: '2.5' }),
    row('text-duration', { duration_ms: '"5"' }),
    row('ok'),
  ]);
  // What the producers write legitimately: Rust any u64, Go any i64.
  wide = logFile('durations.jsonl', [
    row('u64', { duration_ms: '18446744073709551615' }),
    row('i64', { duration_ms: '-5' }),
  ]);
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('rows with a field of the wrong type', () => {
  it('alarm exits 2 (could not check) on accepted fills whose grounded_in_roster is not a boolean', async () => {
    const text = await runSessionsCli(['alarm', '--file', undecidable]);
    assert.equal(text.code, 2, text.stdout + text.stderr);
    assert.match(
      text.stdout,
      /^UNCHECKED: 3 accepted fill row\(s\) whose grounded_in_roster is not a boolean; none of the 5 rows read/,
    );
    for (const id of ['nope', 'list', 'object'])
      assert.match(text.stdout, new RegExp(`\\b${id}\\b`));
    const json = await runSessionsCli(['alarm', '--file', undecidable, '--json']);
    const alarm = JSON.parse(json.stdout) as AlarmJson;
    assert.equal(alarm.code, 2);
    assert.equal(alarm.found, 0);
    assert.equal(alarm.undecided, 3);
    assert.deepEqual(
      alarm.undecidedRows.map((r) => r.session_id),
      ['list', 'nope', 'object'],
    );
    assert.deepEqual([alarm.lines.rows, alarm.lines.malformed, alarm.lines.unreadable], [5, 3, 0]);
  });

  it('report and alarm count malformed rows outside the alarm rule without failing the check', async () => {
    const alarm = await runSessionsCli(['alarm', '--file', harmless]);
    assert.equal(alarm.code, 0, alarm.stdout + alarm.stderr);
    assert.match(alarm.stdout, /^OK: no ungrounded accepted fills in 4 rows\n/);
    assert.match(alarm.stdout, /WARNING: 3 row\(s\) malformed: a field of the wrong type/);
    const report = await runSessionsCli(['report', '--file', harmless]);
    assert.equal(report.code, 0, report.stderr);
    assert.match(
      report.stdout,
      /WARNING: 3 row\(s\) malformed: a field of the wrong type, read as NULL/,
    );
    // 2.5 attempts is no count of attempts: NULL, not rounded to 3.
    assert.deepEqual(
      await sqlJson(
        'SELECT session_id, iterations, duration_ms FROM sessions ORDER BY session_id',
        harmless,
      ),
      [
        { session_id: 'email', iterations: 1, duration_ms: 5 },
        { session_id: 'fraction', iterations: null, duration_ms: 5 },
        { session_id: 'ok', iterations: 1, duration_ms: 5 },
        { session_id: 'text-duration', iterations: 1, duration_ms: null },
      ],
    );
    assert.deepEqual(
      await sqlJson('SELECT session_id FROM session_lines WHERE malformed ORDER BY 1', harmless),
      [{ session_id: 'email' }, { session_id: 'fraction' }, { session_id: 'text-duration' }],
    );
  });

  it('duration_ms keeps every u64 (Rust) and i64 (Go) exactly', async () => {
    assert.deepEqual(
      await sqlJson('SELECT session_id, duration_ms FROM sessions ORDER BY session_id', wide),
      [
        { session_id: 'i64', duration_ms: -5 },
        { session_id: 'u64', duration_ms: '18446744073709551615' },
      ],
    );
    const report = await runSessionsCli(['report', '--file', wide, '--json']);
    const parsed = JSON.parse(report.stdout) as {
      lines: { malformed: number };
      durations: { kind: string; max_ms: unknown }[];
    };
    assert.equal(parsed.lines.malformed, 0);
    assert.equal(parsed.durations.find((d) => d.kind === '(all)')?.max_ms, '18446744073709551615');
  });
});
