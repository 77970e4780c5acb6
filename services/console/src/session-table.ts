import type { FileHandle } from 'node:fs/promises';
import { BIGINT, VARCHAR } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { MAX_LINE_BYTES, SESSION_COLUMNS, SESSION_RECORD_SCHEMA } from '@lakehouse/session-log';
import type { LineIndex } from './line-index.js';
import { pathOfHandle } from './regular-file.js';

// The session log's columns, less the two the table does not hold (a page reads them back from
// the file). Both readers use them, so a field of another type becomes NULL in both the same way.
const COLUMNS = SESSION_COLUMNS.filter(([name]) => name !== 'prompt' && name !== 'artifact');
const READ_JSON_COLUMNS = `{${COLUMNS.map(([k, t]) => `${k}: '${t}'`).join(', ')}}`;
const JSON_STRUCTURE = JSON.stringify(Object.fromEntries(COLUMNS)).replace(/'/g, "''");

/** The in-memory table the console queries: one row per valid session line, `seq` = line index. */
export const SESSIONS_TABLE_SQL = `CREATE TABLE sessions (
  seq BIGINT, session_id VARCHAR, ts TIMESTAMPTZ, timestamp VARCHAR, daemon VARCHAR, kind VARCHAR,
  model VARCHAR, provider VARCHAR, iterations BIGINT, max_iterations BIGINT, final_verdict VARCHAR,
  grounded_in_roster BOOLEAN, duration_ms HUGEINT, attempts INTEGER, phantoms INTEGER, last_error VARCHAR)`;

// `src` yields the read columns plus `seq`. A phantom is the validator's "not in roster" rejection.
function insertSql(src: string): string {
  return `INSERT INTO sessions SELECT seq, session_id, try_cast(timestamp AS TIMESTAMPTZ), timestamp,
    daemon, kind, model, provider, iterations, max_iterations, final_verdict, grounded_in_roster,
    duration_ms, len(attempts),
    len(list_filter(attempts, a -> a.verdict_kind = 'validation_failed' AND contains(a.error, 'not in roster'))),
    list_last(list_filter(list_transform(attempts, a -> a.error), e -> e IS NOT NULL))
  FROM (${src}) WHERE schema = '${SESSION_RECORD_SCHEMA}' AND session_id IS NOT NULL`;
}

// Inserts lines 1..$lines of the file at $path with DuckDB's parallel reader (`seq` from 0).
const BULK_INSERT_SQL = insertSql(
  `SELECT *, ordinality - 1 AS seq FROM read_json($path, format = 'nd', columns = ${READ_JSON_COLUMNS},
     ignore_errors = true, maximum_object_size = ${MAX_LINE_BYTES + 1}) WITH ORDINALITY
   WHERE ordinality <= $lines`,
);

// Inserts the `\n`-joined lines $text, the first being line $base.
const EXACT_INSERT_SQL = insertSql(
  `SELECT unnest(r), $base + i - 1 AS seq FROM (
     SELECT CASE WHEN json_valid(line) THEN json_transform(line, '${JSON_STRUCTURE}') END AS r, i
     FROM (SELECT unnest(l) AS line, generate_subscripts(l, 1) AS i
           FROM (SELECT string_split($text, chr(10)) AS l)))`,
);

/**
 * Inserts lines [first, last) of the indexed file through DuckDB's JSON functions, about
 * `chunkBytes` of them at a time (a longer line goes alone). Resolves to the rows inserted.
 */
export async function insertLines(
  writer: DuckDBConnection,
  handle: FileHandle,
  index: LineIndex,
  first: number,
  last: number,
  chunkBytes: number,
): Promise<number> {
  let rows = 0;
  let seq = first;
  while (seq < last) {
    const chunkStart = index.start(seq);
    let end = seq + 1;
    while (end < last && index.end(end) - chunkStart <= chunkBytes) end++;
    const texts = await index.readLines(handle, seq, end);
    const result = await writer.run(
      EXACT_INSERT_SQL,
      { text: texts.join('\n'), base: seq },
      { text: VARCHAR, base: BIGINT },
    );
    rows += result.rowsChanged;
    seq = end;
  }
  return rows;
}

/**
 * Inserts lines [0, lines) of the file `handle` holds (`path` names it in messages) with DuckDB's
 * parallel reader, through a path to the handle itself (the name could be a FIFO by now, and
 * DuckDB opening one would wait for a writer). The lines after a line that does not end in `}`
 * (which that reader may have taken as part of it: see `LineIndex.unclosedBetween`) are read
 * again line by line, `chunkBytes` at a time. Then checks that
 * a sample of rows sits at the line our index gave it (DuckDB numbers the lines it reads; a
 * reader that skipped or split one would shift every row after it). Resolves to the rows
 * inserted, or to what did not line up (the caller deletes them and inserts line by line).
 */
export async function insertBulk(
  writer: DuckDBConnection,
  path: string,
  handle: FileHandle,
  index: LineIndex,
  lines: number,
  chunkBytes: number,
): Promise<number | string> {
  const source = await pathOfHandle(handle);
  if (source === undefined) return `no path on this system reaches the opened ${path}`;
  const inserted = await writer.run(
    BULK_INSERT_SQL,
    { path: source, lines },
    { path: VARCHAR, lines: BIGINT },
  );
  let rows = inserted.rowsChanged;
  for (const [from, to] of runOnRanges(index, lines)) {
    const deleted = await writer.run(
      'DELETE FROM sessions WHERE seq >= $from AND seq < $to',
      { from, to },
      { from: BIGINT, to: BIGINT },
    );
    rows += (await insertLines(writer, handle, index, from, to, chunkBytes)) - deleted.rowsChanged;
  }
  const samples = new Set<number>([lines - 1]);
  for (let k = 0; k < 32; k++) samples.add(Math.floor((k * lines) / 32));
  const seqs = [...samples].filter((s) => !index.isOversize(s));
  const reader = await writer.runAndReadAll(
    `SELECT seq, session_id FROM sessions WHERE seq IN (SELECT unnest($seqs::BIGINT[]))`,
    { seqs: `[${seqs.join(',')}]` },
  );
  const found = new Map(reader.getRowObjectsJS().map((r) => [Number(r['seq']), r['session_id']]));
  for (const seq of seqs) {
    const row = (await index.readJson(handle, seq)) as Record<string, unknown> | null | undefined;
    const expected =
      typeof row === 'object' && row !== null && row['schema'] === SESSION_RECORD_SCHEMA
        ? row['session_id']
        : undefined;
    if (typeof expected === 'string' && found.get(seq) !== expected)
      return `line ${seq + 1} of ${path} did not land where expected`;
  }
  return rows;
}

// The line ranges [from, to) below `lines` that DuckDB's reader may have run a line not ending
// in `}` into: from the line after such a run of lines through the first line that ends in `}`.
function runOnRanges(index: LineIndex, lines: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  const unclosed = index.unclosedBetween(0, lines);
  for (let i = 0; i < unclosed.length; i++) {
    const from = (unclosed[i] as number) + 1;
    let closed = from;
    while (unclosed[i + 1] === closed) {
      closed++;
      i++;
    }
    if (from < lines) ranges.push([from, Math.min(closed + 1, lines)]);
  }
  return ranges;
}
