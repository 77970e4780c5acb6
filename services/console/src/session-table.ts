import type { FileHandle } from 'node:fs/promises';
import { BIGINT, VARCHAR } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { MAX_LINE_BYTES, SESSION_COLUMNS, SESSION_RECORD_SCHEMA } from '@lakehouse/session-log';
import type { LineIndex } from './line-index.js';

// The session log's columns, less the two the table does not hold (a page reads them back from
// the file). Both readers use them, so a field of another type becomes NULL in both the same way.
const COLUMNS = SESSION_COLUMNS.filter(([name]) => name !== 'prompt' && name !== 'artifact');
const READ_JSON_COLUMNS = `{${COLUMNS.map(([k, t]) => `${k}: '${t}'`).join(', ')}}`;
const JSON_STRUCTURE = JSON.stringify(Object.fromEntries(COLUMNS)).replace(/'/g, "''");

/** The in-memory table the console queries: one row per valid session line, `seq` = line index. */
export const SESSIONS_TABLE_SQL = `CREATE TABLE sessions (
  seq BIGINT, session_id VARCHAR, ts TIMESTAMPTZ, timestamp VARCHAR, daemon VARCHAR, kind VARCHAR,
  model VARCHAR, provider VARCHAR, iterations BIGINT, max_iterations BIGINT, final_verdict VARCHAR,
  grounded_in_roster BOOLEAN, duration_ms BIGINT, attempts INTEGER, phantoms INTEGER, last_error VARCHAR)`;

// `src` yields the read columns plus `seq`. A phantom is the validator's "not in roster" rejection.
function insertSql(src: string): string {
  return `INSERT INTO sessions SELECT seq, session_id, try_cast(timestamp AS TIMESTAMPTZ), timestamp,
    daemon, kind, model, provider, iterations, max_iterations, final_verdict, grounded_in_roster,
    duration_ms, len(attempts),
    len(list_filter(attempts, a -> a.verdict_kind = 'validation_failed' AND contains(a.error, 'not in roster'))),
    list_last(list_filter(list_transform(attempts, a -> a.error), e -> e IS NOT NULL))
  FROM (${src}) WHERE schema = '${SESSION_RECORD_SCHEMA}' AND session_id IS NOT NULL`;
}

/** Inserts lines 1..$lines of the file at $path with DuckDB's parallel reader (`seq` from 0). */
export const BULK_INSERT_SQL = insertSql(
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
 * `chunkBytes` of them at a time (a longer line goes alone).
 */
export async function insertLines(
  writer: DuckDBConnection,
  handle: FileHandle,
  index: LineIndex,
  first: number,
  last: number,
  chunkBytes: number,
): Promise<void> {
  let seq = first;
  while (seq < last) {
    const chunkStart = index.start(seq);
    let end = seq + 1;
    while (end < last && index.end(end) - chunkStart <= chunkBytes) end++;
    const texts = await index.readLines(handle, seq, end);
    await writer.run(
      EXACT_INSERT_SQL,
      { text: texts.join('\n'), base: seq },
      { text: VARCHAR, base: BIGINT },
    );
    seq = end;
  }
}
