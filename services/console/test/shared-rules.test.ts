import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { checkSessionAlarm, isSessionAlarm } from '@lakehouse/session-log';
import type { SessionRecord } from '@lakehouse/session-log';
import { overview } from '../src/overview-query.js';
import { DEFAULT_PAGE_QUERY } from '../src/session-filters.js';
import { listSessions } from '../src/session-list.js';
import { line, loadedStore, record, tempDir } from './helpers.js';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');

// What @lakehouse/session-log owns; a second spelling in the console would drift from it. The
// line cap is the session log's (files that read it); the trace file has its own read bound.
const OWNED_ELSEWHERE: ReadonlyArray<readonly [string, RegExp, RegExp?]> = [
  ['the alarm rule', /'fill'[^\n]*'accepted'|'accepted'[^\n]*'fill'/],
  ['the verdict list', /'accepted',\s*'max_iter_exhausted',\s*'infra_error'/],
  ['the line cap', /LINE_BYTES\s*=\s*\d|32\s*\*\s*1024\s*\*\s*1024/, /^session-/],
  ['the schema name', /'session\.iterate\.v1'/],
  ['the row columns', /\['(?:iterations|final_verdict|grounded_in_roster)',\s*'/],
];

describe('the console applies the session log’s own rules', () => {
  it('spells none of the rules @lakehouse/session-log owns (alarm, verdicts, line cap, schema, columns)', () => {
    const found: string[] = [];
    for (const file of readdirSync(SRC).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(path.join(SRC, file), 'utf8');
      for (const [what, pattern, files] of OWNED_ELSEWHERE)
        if ((files === undefined || files.test(file)) && pattern.test(text))
          found.push(`${file}: ${what}`);
    }
    assert.deepEqual(found, []);
  });

  it('finds exactly the rows `npm run sessions -- alarm` finds, for any log', async () => {
    const row = fc
      .record({
        kind: fc.constantFrom('fill', 'email', 'Fill'),
        finalVerdict: fc.constantFrom(
          'accepted',
          'max_iter_exhausted',
          'infra_error',
        ) as fc.Arbitrary<SessionRecord['finalVerdict']>,
        groundedInRoster: fc.constantFrom(true, false, null),
      })
      .map((r) => r);
    await fc.assert(
      fc.asyncProperty(fc.array(row, { maxLength: 30 }), async (rows) => {
        const t = tempDir();
        try {
          writeFileSync(t.file, rows.map((r, i) => line(record(i, r))).join(''));
          const store = await loadedStore(t.file);
          try {
            const c = await store.connect();
            try {
              const alarm = await checkSessionAlarm(t.file);
              const page = await listSessions(c, {
                ...DEFAULT_PAGE_QUERY,
                filters: { alarm: true },
                pageSize: 200,
              });
              assert.deepEqual(
                page.rows.map((r) => r.session_id).sort(),
                alarm.rows.map((r) => String(r['session_id'])).sort(),
              );
              assert.equal((await overview(c)).totals.alarm, alarm.rows.length);
              // The pages mark alarm rows with the same rule, applied to one row's values.
              const marked = rows.flatMap((r, i) =>
                isSessionAlarm({
                  kind: r.kind,
                  final_verdict: r.finalVerdict,
                  grounded_in_roster: r.groundedInRoster,
                })
                  ? [record(i).sessionId]
                  : [],
              );
              assert.deepEqual(marked.sort(), page.rows.map((r) => r.session_id).sort());
            } finally {
              c.closeSync();
            }
          } finally {
            await store.close();
          }
        } finally {
          t.cleanup();
        }
      }),
      { numRuns: 25 },
    );
  });
});
