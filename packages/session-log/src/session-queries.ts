import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { SESSION_RECORD_SCHEMA } from './session-record.js';

/** A result row with plain JSON values (BIGINT as number, JSON columns as text). */
export type SessionQueryRow = Record<string, unknown>;

/**
 * What the log's lines held besides readable rows. None of them is ever skipped silently: the
 * report prints them, and the alarm cannot say "OK" past them.
 */
export interface SessionLogLines {
  /** Lines that are `session.iterate.v1` rows. */
  rows: number;
  /** Lines that are not JSON rows of the expected shape: torn writes, garbage, wrong types. */
  unreadable: number;
  /** Valid JSON rows of another schema (another producer's records). */
  otherSchema: number;
  /**
   * Rows of our schema (counted in `rows`) with a field of the wrong JSON type, which reads as
   * NULL (`"grounded_in_roster":"nope"`, `"duration_ms":1.5`).
   */
  malformed: number;
  /** Lines longer than {@link MAX_LINE_BYTES}, which were not read at all. */
  oversized: number;
}

/**
 * DuckDB's `maximum_object_size` (bytes). DuckDB itself reads lines up to about twice this; when
 * a longer line stops it, the files are re-read leaving out every line over this size, each
 * counted as oversized. Rows are capped far below it (see the README's row caps).
 */
export const MAX_LINE_BYTES = 32 * 1024 * 1024;

/** The report sections over one or more session logs. */
export interface SessionReport {
  lines: SessionLogLines;
  totals: SessionQueryRow;
  /** Rows per producer (`daemon`): the log is one stream from every runtime writing it. */
  daemons: SessionQueryRow[];
  verdictMix: SessionQueryRow[];
  attempts: SessionQueryRow[];
  durations: SessionQueryRow[];
  topValidationErrors: SessionQueryRow[];
}

/** Thrown when the glob matches no file, or a path is not a regular file; the CLI exits 2. */
export class SessionLogNotFoundError extends Error {
  override readonly name = 'SessionLogNotFoundError';
}

// The row's columns as the `sessions` view types them, and how each is read. Explicit columns:
// a key first seen after DuckDB's 20,480-row sample still reads, and no auto-detected struct
// (artifact keys differing only in case) can fail the file. String fields are read as VARCHAR
// (DuckDB reads a value of another JSON type as its JSON text, never as NULL). Every other field
// is read as JSON and typed only when its JSON type is the schema's, so a wrong type
// (`"grounded_in_roster":"nope"`, a fraction, a number past the column's range) is NULL and
// counted as malformed instead of silently becoming NULL. duration_ms is HUGEINT: Rust writes any
// u64, Go any i64.
const ATTEMPTS_TYPE =
  'STRUCT(iteration BIGINT, verdict_kind VARCHAR, error VARCHAR, span_id VARCHAR)[]';
const ATTEMPTS_STRUCTURE =
  '[{"iteration":"BIGINT","verdict_kind":"VARCHAR","error":"VARCHAR","span_id":"VARCHAR"}]';
// A field read as JSON holds DuckDB's own rewrite of the value, which is cheaper to test as text
// than with json_type (a second parse): an integer is digits with an optional "-" (`-0` is `0`),
// a real always has a "." or an "e" (`1E3` is `1000.0`, `1.0` stays `1.0`), a string its quotes.
// Only numbers past a double or a u64/i64 keep their own text: integers, which TRY_CAST then
// bounds, and reals past a double (`1E400`), which no cast takes. `range` bounds a HUGEINT to
// what the producers write (Go any i64, Rust any u64); past it the field is malformed.
const typedNumber = (name: string, type: string, range?: readonly [string, string]): string => {
  const integer =
    `CASE WHEN NOT contains(${name}::VARCHAR, '.') AND NOT contains(${name}::VARCHAR, 'e') ` +
    `THEN TRY_CAST(${name}::VARCHAR AS ${type}) END`;
  return range === undefined
    ? integer
    : `CASE WHEN (${integer}) BETWEEN ${range[0]} AND ${range[1]} THEN ${integer} END`;
};
const I64_TO_U64 = ['-9223372036854775808', '18446744073709551615'] as const;
// A JSON value's text as DuckDB keeps it (minified): an array's starts with "[", a boolean's is
// true or false. Cheaper than json_type, which parses the value again.
const isArray = (name: string): string => `left(${name}::VARCHAR, 1) = '['`;

/** How one column of a row is read and typed. */
interface ColumnRead {
  name: string;
  /** Its type in the `sessions` view. */
  type: string;
  /** SQL typing the JSON read; undefined: read as `type` directly (VARCHAR, JSON). */
  typed?: string;
  /** SQL true when a present value is of the wrong type (default: `typed` came out NULL). */
  wrong?: string;
}
const COLUMN_READS: readonly ColumnRead[] = [
  { name: 'schema', type: 'VARCHAR' },
  { name: 'session_id', type: 'VARCHAR' },
  { name: 'timestamp', type: 'VARCHAR' },
  { name: 'daemon', type: 'VARCHAR' },
  { name: 'kind', type: 'VARCHAR' },
  { name: 'model', type: 'VARCHAR' },
  { name: 'provider', type: 'VARCHAR' },
  { name: 'prompt', type: 'VARCHAR' },
  { name: 'iterations', type: 'BIGINT', typed: typedNumber('iterations', 'BIGINT') },
  { name: 'max_iterations', type: 'BIGINT', typed: typedNumber('max_iterations', 'BIGINT') },
  { name: 'final_verdict', type: 'VARCHAR' },
  {
    name: 'attempts',
    type: ATTEMPTS_TYPE,
    typed: `CASE WHEN ${isArray('attempts')} THEN from_json(attempts, '${ATTEMPTS_STRUCTURE}') END`,
    wrong: `NOT ${isArray('attempts')}`,
  },
  { name: 'artifact', type: 'JSON' },
  {
    name: 'grounded_in_roster',
    type: 'BOOLEAN',
    typed: "CASE grounded_in_roster::VARCHAR WHEN 'true' THEN true WHEN 'false' THEN false END",
  },
  {
    name: 'duration_ms',
    type: 'HUGEINT',
    typed: typedNumber('duration_ms', 'HUGEINT', I64_TO_U64),
  },
];
/**
 * A row's keys and the DuckDB type each has in the `sessions` view (what every reader of the log
 * gives each column).
 */
export const SESSION_COLUMNS: ReadonlyArray<readonly [string, string]> = COLUMN_READS.map(
  ({ name, type }) => [name, type] as const,
);
const READ_COLUMNS = `{${COLUMN_READS.map((c) => `${c.name}:'${c.typed === undefined ? c.type : 'JSON'}'`).join(',')}}`;
// Each line typed once; `<name>_wrong` says a present value is of the wrong type.
const TYPED_SELECT = COLUMN_READS.map((c) =>
  c.typed === undefined
    ? c.name
    : `${c.typed} AS ${c.name}, ${c.name} IS NOT NULL AND ` +
      `${c.wrong ?? `(${c.typed}) IS NULL`} AS ${c.name}_wrong`,
).join(', ');
const TYPED_NAMES = COLUMN_READS.map((c) => c.name).join(', ');
// A field present with a value the view cannot type: NULL in the view, not in the line.
const MALFORMED = COLUMN_READS.flatMap((c) =>
  c.typed === undefined ? [] : [`${c.name}_wrong`],
).join(' OR ');

/** The alarm's rule in SQL over a row's columns: an accepted fill not grounded in the roster. */
export const SESSION_ALARM_SQL =
  "kind = 'fill' AND final_verdict = 'accepted' AND grounded_in_roster = false";

/** {@link SESSION_ALARM_SQL} for one row's values. Pure. */
export function isSessionAlarm(row: {
  readonly kind: unknown;
  readonly final_verdict: unknown;
  readonly grounded_in_roster: unknown;
}): boolean {
  return (
    row.kind === 'fill' && row.final_verdict === 'accepted' && row.grounded_in_roster === false
  );
}

function quote(text: string): string {
  return "'" + text.replace(/'/g, "''") + "'";
}

const IS_ROW = `schema = ${quote(SESSION_RECORD_SCHEMA)}`;

/**
 * SQL of the views over `glob` (one path or a DuckDB glob of several files): `session_lines`,
 * every non-empty line typed (unreadable ones are all-NULL rows) with `malformed` (a row of our
 * schema with a field of the wrong type, which reads as NULL), and `sessions`, the rows of our
 * schema. Empty lines are skipped (a writer may start a row on a fresh line).
 */
function sessionsViewSql(glob: string): string {
  return (
    `CREATE OR REPLACE VIEW session_lines AS SELECT ${TYPED_NAMES}, ` +
    `coalesce(${IS_ROW} AND (${MALFORMED}), false) AS malformed FROM (SELECT ${TYPED_SELECT} ` +
    `FROM read_json(${quote(glob)}, format='nd', columns=${READ_COLUMNS}, ignore_errors=true, ` +
    `maximum_object_size=${MAX_LINE_BYTES})); ` +
    `CREATE OR REPLACE VIEW sessions AS SELECT ${TYPED_NAMES} FROM session_lines WHERE ${IS_ROW}`
  );
}

// Counts of one pass over session_lines (or a table made from it), as SQL select items.
const LINE_COUNTS =
  `count(*) FILTER (${IS_ROW}) AS rows, ` +
  `count(*) FILTER (schema IS NULL) AS unreadable, ` +
  `count(*) FILTER (schema <> ${quote(SESSION_RECORD_SCHEMA)}) AS other_schema, ` +
  `count(*) FILTER (malformed) AS malformed`;

const unreadableLines = (result: { lines: SessionLogLines }): number => result.lines.unreadable;

function lineCounts(row: SessionQueryRow | undefined, oversized: number): SessionLogLines {
  return {
    rows: Number(row?.['rows'] ?? 0),
    unreadable: Number(row?.['unreadable'] ?? 0),
    otherSchema: Number(row?.['other_schema'] ?? 0),
    malformed: Number(row?.['malformed'] ?? 0),
    oversized,
  };
}

function plain(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[key] = plain(inner);
    return out;
  }
  return value;
}

async function query(connection: DuckDBConnection, sql: string): Promise<SessionQueryRow[]> {
  const reader = await connection.runAndReadAll(sql);
  return reader.getRowObjectsJS().map((row) => plain(row) as SessionQueryRow);
}

const GLOB_CHARS = /[*?[{]/;

// DuckDB's errors that fail the whole read even with ignore_errors: a line past
// maximum_object_size, and a fragment whose value ran on into the next lines and closed there.
const UNREADABLE_FILE = /maximum_object_size|Malformed JSON/i;

// Queries `glob` with the views defined. DuckDB's newline-delimited reader lets a value run past
// a line's end (a newline is JSON whitespace): a fragment that stops where a value is due (a torn
// write cut after `:`, `[` or an array's `,`) takes the next line as that value, and both lines
// come back as one error, two all-NULL rows, so another producer's intact row reads as
// unreadable. So when `unreadableOf(result)` says some line was not read, or a line was too long
// for DuckDB, the files are copied with each such line neutralised (see copyForReading) and the
// copies queried again; a log with no unreadable line is read once, as is.
async function withSessions<T>(
  glob: string,
  unreadableOf: ((result: T) => number) | undefined,
  fn: (connection: DuckDBConnection, oversized: number) => Promise<T>,
): Promise<T> {
  if (!GLOB_CHARS.test(glob)) {
    if (!existsSync(glob)) throw new SessionLogNotFoundError(`session log not found: ${glob}`);
    // A FIFO would block the reader and a directory is no log: one clear message instead.
    const info = statSync(glob);
    if (!info.isFile()) {
      throw new SessionLogNotFoundError(
        `${glob} is ${info.isDirectory() ? 'a directory' : info.isFIFO() ? 'a FIFO' : 'not a regular file'}, not a session log`,
      );
    }
  }
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  let copies: string | undefined;
  try {
    try {
      await connection.run(sessionsViewSql(glob));
      // Binding the view does not touch files: resolve the glob here, without reading the
      // files (a count over the view would parse the whole log once more).
      if (GLOB_CHARS.test(glob)) {
        const [found] = await query(
          connection,
          `SELECT count(*) AS files FROM glob(${quote(glob)})`,
        );
        if (Number(found?.['files'] ?? 0) === 0) {
          throw new SessionLogNotFoundError(`no session log matches ${glob}`);
        }
      }
    } catch (error) {
      if (/No files found/i.test(String(error))) {
        throw new SessionLogNotFoundError(`no session log matches ${glob}`);
      }
      throw error;
    }
    let first: { result: T } | undefined;
    try {
      const result = await fn(connection, 0);
      if (unreadableOf === undefined || unreadableOf(result) === 0) return result;
      first = { result };
    } catch (error) {
      if (!UNREADABLE_FILE.test(String(error))) throw error;
    }
    // Rare path: a line DuckDB could not read, or one too long to read at all.
    const files = (
      await query(connection, `SELECT file FROM glob(${quote(glob)}) ORDER BY file`)
    ).map((r) => String(r['file']));
    copies = mkdtempSync(join(tmpdir(), 'lakehouse-sessions-'));
    let oversized = 0;
    let neutralised = 0;
    for (const [i, file] of files.entries()) {
      const copied = await copyForReading(file, join(copies, `${i}-${basename(file)}`));
      oversized += copied.oversized;
      neutralised += copied.neutralised;
    }
    // No line could have run into the next one: the first answer stands.
    if (first !== undefined && oversized === 0 && neutralised === 0) return first.result;
    await connection.run(sessionsViewSql(join(copies, '*')));
    return await fn(connection, oversized);
  } finally {
    connection.closeSync();
    instance.closeSync();
    if (copies !== undefined) rmSync(copies, { recursive: true, force: true });
  }
}

// What stands for a line that cannot be a row and could run into the next one: not JSON from its
// first byte, so it stays one unreadable line.
const NEUTRAL_LINE = Buffer.from('#\n');
const JSON_WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

// The last byte of `parts` (one line's bytes) that is not JSON whitespace, or -1 for none.
function lastSignificantByte(parts: readonly Buffer[]): number {
  for (let p = parts.length - 1; p >= 0; p--) {
    const part = parts[p] as Buffer;
    for (let i = part.length - 1; i >= 0; i--) {
      const byte = part[i] as number;
      if (!JSON_WHITESPACE.has(byte)) return byte;
    }
  }
  return -1;
}

// Streams `from` into `to` for DuckDB: leaves out lines longer than MAX_LINE_BYTES (counted as
// oversized) and writes NEUTRAL_LINE for each line that does not end in "}" (no row, nor any
// line DuckDB reads as one, ends otherwise), so it can take no other line with it; blank lines
// stay. Memory stays at one chunk plus one line.
async function copyForReading(
  from: string,
  to: string,
): Promise<{ oversized: number; neutralised: number }> {
  const out = await open(to, 'w');
  let oversized = 0;
  let neutralised = 0;
  let line: Buffer[] = []; // the current line's bytes so far
  let lineBytes = 0;
  let skipping = false; // the current line is already too long
  let batch: Buffer[] = [];
  let batchBytes = 0;
  const emit = async (parts: Buffer[], bytes: number): Promise<void> => {
    const last = lastSignificantByte(parts);
    if (last !== -1 && last !== 0x7d) {
      neutralised += 1;
      parts = [NEUTRAL_LINE];
      bytes = NEUTRAL_LINE.length;
    }
    batch.push(...parts);
    batchBytes += bytes;
    if (batchBytes >= 1 << 20) {
      await out.write(Buffer.concat(batch));
      batch = [];
      batchBytes = 0;
    }
  };
  try {
    for await (const chunk of createReadStream(from) as AsyncIterable<Buffer>) {
      let start = 0;
      for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
        const piece = chunk.subarray(start, nl + 1);
        if (skipping || lineBytes + piece.length - 1 > MAX_LINE_BYTES) oversized += 1;
        else await emit([...line, Buffer.from(piece)], lineBytes + piece.length);
        line = [];
        lineBytes = 0;
        skipping = false;
        start = nl + 1;
      }
      const rest = chunk.subarray(start);
      if (skipping || rest.length === 0) continue;
      if (lineBytes + rest.length > MAX_LINE_BYTES) {
        skipping = true;
        line = [];
        lineBytes = 0;
      } else {
        line.push(Buffer.from(rest));
        lineBytes += rest.length;
      }
    }
    if (skipping) oversized += 1;
    else await emit(line, lineBytes);
    if (batchBytes > 0) await out.write(Buffer.concat(batch));
  } finally {
    await out.close();
  }
  return { oversized, neutralised };
}

/** Groups a report section lists (producers, verdict mix, kinds, attempt counts); the rest are one "(other)" row. */
const MAX_REPORT_GROUPS = 50;

/** Alarm rows listed (every one is counted). */
export const MAX_ALARM_ROWS = 100;

/** Rows `runSessionSql` returns at most (the CLI's default for `sql`). */
export const MAX_SQL_ROWS = 1000;

// The first MAX_REPORT_GROUPS groups of `groupsSql` (which yields `n`, the group's rank from 1)
// and one row for all the others: `other` with `sums` summed, `pct` recomputed by the caller. A
// log with 125,000 model names still prints a bounded report.
async function boundedGroups(
  c: DuckDBConnection,
  groupsSql: string,
  sums: readonly string[],
  other: (rest: SessionQueryRow) => SessionQueryRow,
): Promise<SessionQueryRow[]> {
  await c.run(`CREATE OR REPLACE TEMP TABLE report_groups AS ${groupsSql}`);
  const top = await query(
    c,
    `SELECT * EXCLUDE (n) FROM report_groups WHERE n <= ${MAX_REPORT_GROUPS} ORDER BY n`,
  );
  const [rest] = await query(
    c,
    `SELECT count(*) AS groups, ${sums.map((x) => `sum(${x})::HUGEINT AS ${x}`).join(', ')}
     FROM report_groups WHERE n > ${MAX_REPORT_GROUPS}`,
  );
  return rest !== undefined && Number(rest['groups']) > 0 ? [...top, other(rest)] : top;
}

const pct = (part: unknown, whole: unknown): number =>
  Math.round((1000 * Number(part)) / Math.max(1, Number(whole))) / 10;

/**
 * Runs the report (producers, verdict mix, attempts distribution, duration percentiles, top
 * validation errors) over `glob`; each grouped section lists at most MAX_REPORT_GROUPS groups
 * plus one "(other)" row. Throws SessionLogNotFoundError when no file matches.
 */
export function runSessionReport(glob: string, topErrors = 10): Promise<SessionReport> {
  return withSessions(glob, unreadableLines, async (c, oversized) => {
    // Parse the log once: the sections below read this table, not the JSON files.
    await c.run(
      `CREATE OR REPLACE TEMP TABLE report_lines AS
       SELECT schema, malformed, session_id, timestamp, daemon, kind, model, provider,
              final_verdict, iterations, duration_ms,
              list_transform(list_filter(attempts, a -> a.verdict_kind = 'validation_failed'),
                             a -> a.error) AS validation_errors
       FROM session_lines;
       CREATE OR REPLACE TEMP VIEW report_sessions AS SELECT * FROM report_lines WHERE ${IS_ROW}`,
    );
    const [counts] = await query(c, `SELECT ${LINE_COUNTS} FROM report_lines`);
    const others = (rest: SessionQueryRow): string => `(${String(rest['groups'])} more)`;
    const daemons = await boundedGroups(
      c,
      `SELECT daemon, count(*) AS sessions, count(*) FILTER (final_verdict = 'accepted') AS accepted,
              min(timestamp) AS first_timestamp, max(timestamp) AS last_timestamp,
              row_number() OVER (ORDER BY count(*) DESC, daemon) AS n
       FROM report_sessions GROUP BY daemon`,
      ['sessions', 'accepted'],
      (rest) => ({ daemon: others(rest), sessions: rest['sessions'], accepted: rest['accepted'] }),
    );
    const [totals] = await query(
      c,
      `SELECT count(*) AS sessions,
              count(*) FILTER (final_verdict = 'accepted') AS accepted,
              min(timestamp) AS first_timestamp, max(timestamp) AS last_timestamp
       FROM report_sessions`,
    );
    const verdictMix = await boundedGroups(
      c,
      `SELECT kind, model, provider, count(*) AS sessions,
              count(*) FILTER (final_verdict = 'accepted') AS accepted,
              count(*) FILTER (final_verdict = 'max_iter_exhausted') AS max_iter_exhausted,
              count(*) FILTER (final_verdict = 'infra_error') AS infra_error,
              round(100.0 * count(*) FILTER (final_verdict = 'accepted') / count(*), 1) AS accepted_pct,
              row_number() OVER (ORDER BY count(*) DESC, kind, model, provider) AS n
       FROM report_sessions GROUP BY kind, model, provider`,
      ['sessions', 'accepted', 'max_iter_exhausted', 'infra_error'],
      (rest) => ({
        kind: '(other)',
        model: `${others(rest)} kind/model/provider groups`,
        provider: null,
        sessions: rest['sessions'],
        accepted: rest['accepted'],
        max_iter_exhausted: rest['max_iter_exhausted'],
        infra_error: rest['infra_error'],
        accepted_pct: pct(rest['accepted'], rest['sessions']),
      }),
    );
    const attempts = await boundedGroups(
      c,
      `SELECT iterations, count(*) AS sessions,
              round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS pct,
              row_number() OVER (ORDER BY count(*) DESC, iterations) AS n
       FROM report_sessions GROUP BY iterations`,
      ['sessions'],
      (rest) => ({
        iterations: `${others(rest)} values`,
        sessions: rest['sessions'],
        pct: pct(rest['sessions'], totals?.['sessions']),
      }),
    );
    attempts.sort((a, b) => order(a['iterations']) - order(b['iterations']));
    // Percentiles cannot be summed: the other kinds are measured again, only when there are any.
    const kinds = `SELECT kind FROM report_sessions GROUP BY kind ORDER BY count(*) DESC, kind LIMIT ${MAX_REPORT_GROUPS}`;
    const durations = await query(
      c,
      `WITH top_kinds AS (${kinds}),
       labelled AS (
         SELECT CASE WHEN EXISTS (SELECT 1 FROM top_kinds t WHERE t.kind IS NOT DISTINCT FROM s.kind)
                     THEN s.kind ELSE '(other)' END AS kind,
                duration_ms
         FROM report_sessions s)
       SELECT kind, sessions, p50_ms, p95_ms, max_ms FROM (
         SELECT CASE WHEN kind = '(other)' THEN 1 ELSE 0 END AS o, kind, count(*) AS sessions,
                round(quantile_cont(duration_ms, 0.5), 1) AS p50_ms,
                round(quantile_cont(duration_ms, 0.95), 1) AS p95_ms, max(duration_ms) AS max_ms
         FROM labelled GROUP BY kind
         UNION ALL
         SELECT 2, '(all)', count(*), round(quantile_cont(duration_ms, 0.5), 1),
                round(quantile_cont(duration_ms, 0.95), 1), max(duration_ms)
         FROM report_sessions)
       ORDER BY o, kind`,
    );
    const topValidationErrors = await query(
      c,
      `SELECT e AS error, count(*) AS attempts, count(DISTINCT session_id) AS sessions
       FROM (SELECT session_id, unnest(validation_errors) AS e FROM report_sessions)
       GROUP BY e ORDER BY attempts DESC, error LIMIT ${Math.max(1, Math.floor(topErrors))}`,
    );
    return {
      lines: lineCounts(counts, oversized),
      totals: totals ?? {},
      daemons,
      verdictMix,
      attempts,
      durations,
      topValidationErrors,
    };
  });
}

// Attempt counts in order, the "(other)" row last.
function order(iterations: unknown): number {
  return typeof iterations === 'number' ? iterations : Number.MAX_VALUE;
}

/** The alarm's answer: the offending rows, and what it could not read or decide. */
export interface SessionAlarmCheck {
  /** Ungrounded accepted fills, the first MAX_ALARM_ROWS (oldest first). */
  rows: SessionQueryRow[];
  /** How many there are in all. */
  found: number;
  /**
   * Accepted fill rows whose `grounded_in_roster` is of the wrong type (`"nope"`, `[false]`):
   * the alarm cannot tell whether they are grounded. The first MAX_ALARM_ROWS are in `undecidedRows`.
   */
  undecided: number;
  undecidedRows: SessionQueryRow[];
  lines: SessionLogLines;
}

const ALARM_ROW_FIELDS =
  'struct_pack(session_id, timestamp, daemon, model, provider, iterations, duration_ms, artifact)';

/**
 * The alarm query: accepted `fill` rows with grounded_in_roster = false (must always be
 * empty), with the line counts of the same single pass over the files, so a caller can tell
 * "none" from "could not read everything", and the accepted fills it cannot decide (a
 * malformed grounded_in_roster). Throws SessionLogNotFoundError when no file matches.
 */
export function checkSessionAlarm(glob: string): Promise<SessionAlarmCheck> {
  return withSessions(glob, unreadableLines, async (c, oversized) => {
    const acceptedFill = `${IS_ROW} AND kind = 'fill' AND final_verdict = 'accepted'`;
    const undecided = `${acceptedFill} AND malformed AND grounded_in_roster IS NULL`;
    const alarm = `${IS_ROW} AND ${SESSION_ALARM_SQL}`;
    const [result] = await query(
      c,
      `SELECT ${LINE_COUNTS},
              count(*) FILTER (${alarm}) AS found,
              list(${ALARM_ROW_FIELDS} ORDER BY timestamp, session_id)
                FILTER (${alarm})[1:${MAX_ALARM_ROWS}] AS alarm,
              count(*) FILTER (${undecided}) AS undecided,
              list(${ALARM_ROW_FIELDS} ORDER BY timestamp, session_id)
                FILTER (${undecided})[1:${MAX_ALARM_ROWS}] AS undecided_rows
       FROM session_lines`,
    );
    const list = (value: unknown): SessionQueryRow[] =>
      Array.isArray(value) ? (value as SessionQueryRow[]) : [];
    return {
      rows: list(result?.['alarm']),
      found: Number(result?.['found'] ?? 0),
      undecided: Number(result?.['undecided'] ?? 0),
      undecidedRows: list(result?.['undecided_rows']),
      lines: lineCounts(result, oversized),
    };
  });
}

/** The offending rows of {@link checkSessionAlarm} alone (the first MAX_ALARM_ROWS). */
export async function runSessionAlarm(glob: string): Promise<SessionQueryRow[]> {
  return (await checkSessionAlarm(glob)).rows;
}

/** What `runSessionSql` returns: at most `maxRows` rows, and whether the query had more. */
export interface SessionSqlResult {
  rows: SessionQueryRow[];
  more: boolean;
}

/**
 * Runs arbitrary SQL with the views `sessions` and `session_lines` defined over `glob`, reading
 * at most `maxRows` result rows (streamed, so a huge result never sits in memory). Throws on SQL
 * errors.
 */
export function runSessionSql(
  glob: string,
  sql: string,
  maxRows = MAX_SQL_ROWS,
): Promise<SessionSqlResult> {
  // No line counts to tell a line that ran into the next by: the files are read as they are.
  return withSessions(glob, undefined, async (c) => {
    const limit = Math.max(0, Math.floor(maxRows));
    const reader = await c.streamAndReadUntil(sql, limit + 1);
    const rows = reader.getRowObjectsJS();
    const more = rows.length > limit || !reader.done;
    return { rows: rows.slice(0, limit).map((row) => plain(row) as SessionQueryRow), more };
  });
}
