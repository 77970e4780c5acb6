// A log whose client strings are all different (any client can send any `model`): the report
// and `sql` must still print, bounded, instead of overflowing the stack on 125,000 names.
import assert from 'node:assert/strict';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatTextTable } from '../src/text-table.js';
import { runSessionsCli } from './helpers.js';

const MODELS = 130_000;
const SHOWN_GROUPS = 50; // MAX_REPORT_GROUPS, the README's N
const SHOWN_SQL_ROWS = 1000; // MAX_SQL_ROWS

// The lines of one titled section of the text report, without its two header lines.
function section(report: string, title: string): string[] {
  const start = report.indexOf(`${title}\n`);
  assert.ok(start >= 0, `no section ${title}`);
  const body = report.slice(start).split('\n\n')[0] ?? '';
  return body.split('\n').slice(3);
}

let dir: string;
let wide: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'session-log-wide-'));
  wide = join(dir, 'wide.jsonl');
  const out = createWriteStream(wide);
  for (let i = 0; i < MODELS; i++) {
    const line =
      `{"schema":"session.iterate.v1","session_id":"${i.toString(16).padStart(32, '0')}",` +
      `"timestamp":"2026-01-01T00:00:00.000000Z","daemon":"gateway","kind":"fill",` +
      `"model":"m-${i}","provider":"sim","prompt":"x","iterations":1,"max_iterations":3,` +
      `"final_verdict":"${i % 10 === 0 ? 'max_iter_exhausted' : 'accepted'}","attempts":[],` +
      `"grounded_in_roster":true,"duration_ms":5}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('reports over a log with 130,000 distinct model names', () => {
  it('formatTextTable sizes columns of 200,000 rows (no spread call to overflow the stack)', () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => [`m-${i}`, i]);
    const text = formatTextTable(['model', 'n'], rows);
    const lines = text.split('\n');
    assert.equal(lines.length, 200_000 + 3);
    assert.equal(lines[1], `${'-'.repeat('m-199999'.length)}  ${'-'.repeat('199999'.length)}`);
  });

  it(
    'report lists the top 50 kind/model/provider groups and one (other) row summing the rest',
    { timeout: 120_000 },
    async () => {
      const text = await runSessionsCli(['report', '--file', wide]);
      assert.equal(text.code, 0, text.stderr.slice(0, 500));
      const mix = section(text.stdout, 'verdict mix by kind / model / provider');
      assert.equal(mix.length, SHOWN_GROUPS + 1, mix.slice(-3).join('\n'));
      const other = mix[SHOWN_GROUPS] ?? '';
      const rest = MODELS - SHOWN_GROUPS;
      assert.match(
        other,
        new RegExp(`^\\(other\\) +\\(${rest} more\\) kind/model/provider groups`),
      );
      // Every session is counted once: 50 groups of one session each, the rest in (other).
      assert.match(other, new RegExp(` ${rest} +\\d+ +\\d+ +0 +\\d+(\\.\\d)?$`));
      const json = await runSessionsCli(['report', '--file', wide, '--json']);
      assert.equal(json.code, 0, json.stderr.slice(0, 500));
      const report = JSON.parse(json.stdout) as { verdictMix: { sessions: number }[] };
      assert.equal(report.verdictMix.length, SHOWN_GROUPS + 1);
      assert.equal(
        report.verdictMix.reduce((n, r) => n + Number(r.sessions), 0),
        MODELS,
      );
    },
  );

  it(
    'sql prints at most 1,000 rows and says so; --max-rows and LIMIT choose another bound',
    { timeout: 120_000 },
    async () => {
      const all = await runSessionsCli(['sql', 'SELECT model FROM sessions', '--file', wide]);
      assert.equal(all.code, 0, all.stderr.slice(0, 500));
      const lines = all.stdout.trimEnd().split('\n');
      assert.equal(lines.length, 2 + SHOWN_SQL_ROWS + 1);
      assert.match(
        lines.at(-1) ?? '',
        /^sessions: only the first 1000 rows are shown; add a LIMIT, or --max-rows N$/,
      );
      const json = await runSessionsCli([
        'sql',
        'SELECT model FROM sessions',
        '--file',
        wide,
        '--json',
      ]);
      assert.equal(json.code, 0, json.stderr.slice(0, 500));
      assert.equal((JSON.parse(json.stdout) as unknown[]).length, SHOWN_SQL_ROWS);
      assert.match(json.stderr, /only the first 1000 rows are shown/);
      const five = await runSessionsCli([
        'sql',
        'SELECT model FROM sessions ORDER BY model',
        '--file',
        wide,
        '--max-rows',
        '5',
      ]);
      assert.equal(five.stdout.trimEnd().split('\n').length, 2 + 5 + 1);
      const limited = await runSessionsCli([
        'sql',
        'SELECT model FROM sessions LIMIT 3',
        '--file',
        wide,
      ]);
      assert.doesNotMatch(limited.stdout, /only the first/);
      assert.equal(limited.stdout.trimEnd().split('\n').length, 2 + 3);
    },
  );
});
