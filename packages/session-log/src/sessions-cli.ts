#!/usr/bin/env node
// Forensic queries over session.iterate.v1 logs with DuckDB.
// Usage: npm run sessions -- <report|alarm|sql "SELECT ... FROM sessions"> [--file GLOB] [--json]
import {
  MAX_ALARM_ROWS,
  MAX_LINE_BYTES,
  MAX_SQL_ROWS,
  SessionLogNotFoundError,
  checkSessionAlarm,
  runSessionReport,
  runSessionSql,
} from './session-queries.js';
import type { SessionLogLines, SessionQueryRow } from './session-queries.js';
import { terminalSafe, terminalSafeJson } from './terminal-safe.js';
import { formatTextTable } from './text-table.js';

const USAGE =
  'usage: sessions <report|alarm|sql "<query over the view sessions>"> [--file GLOB] [--json]\n' +
  '                [--max-unreadable N] [--max-rows N]\n' +
  '  default file: $SESSION_LOG_PATH or data/sessions.jsonl\n' +
  '  alarm exits 0 (none), 1 (found), 2 (could not check: more than N unreadable lines, default 0,\n' +
  '  or an accepted fill whose grounded_in_roster is not a boolean)\n' +
  `  sql prints at most --max-rows rows (default ${MAX_SQL_ROWS})\n`;

interface Args {
  command: string;
  sql: string | undefined;
  file: string;
  json: boolean;
  maxUnreadable: number;
  maxRows: number;
}

function parseArgs(argv: readonly string[]): Args {
  const positional: string[] = [];
  let file = process.env['SESSION_LOG_PATH'] || 'data/sessions.jsonl';
  let json = false;
  let maxUnreadable = 0;
  let maxRows = MAX_SQL_ROWS;
  const whole = (flag: string, text: string | undefined): number => {
    const value = Number(text);
    if (text === undefined || !Number.isSafeInteger(value) || value < 0) {
      throw new UsageError(`${flag} needs a whole number`);
    }
    return value;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--json') json = true;
    else if (arg === '--max-unreadable') maxUnreadable = whole(arg, argv[++i]);
    else if (arg === '--max-rows') maxRows = whole(arg, argv[++i]);
    else if (arg === '--file') {
      const value = argv[++i];
      if (value === undefined || value === '') throw new UsageError('--file needs a path or glob');
      file = value;
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    } else if (arg.startsWith('--')) throw new UsageError(`unknown option ${arg}`);
    else positional.push(arg);
  }
  const [command, sql, extra] = positional;
  if (command === undefined) throw new UsageError('missing command');
  if (command !== 'report' && command !== 'alarm' && command !== 'sql') {
    throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
  if (command === 'sql' && (sql === undefined || sql.trim() === ''))
    throw new UsageError('sql needs a query');
  if ((command !== 'sql' && sql !== undefined) || extra !== undefined)
    throw new UsageError('too many arguments');
  return { command, sql, file, json, maxUnreadable, maxRows };
}

class UsageError extends Error {}

function table(rows: readonly SessionQueryRow[], maxCell = 100): string {
  if (rows.length === 0) return '(no rows)\n';
  const headers = Object.keys(rows[0] ?? {});
  return formatTextTable(
    headers,
    rows.map((row) =>
      headers.map((h) => {
        const value = row[h];
        const text = typeof value === 'object' && value !== null ? JSON.stringify(value) : value;
        return typeof text === 'string' && text.length > maxCell
          ? text.slice(0, maxCell - 1) + '…'
          : text;
      }),
    ),
  );
}

// Lines the query could not read, said out loud (never skipped silently).
function notRead(lines: SessionLogLines): string | undefined {
  const parts: string[] = [];
  if (lines.unreadable > 0) {
    parts.push(`${lines.unreadable} unreadable (torn write, not JSON, or not a session row)`);
  }
  if (lines.oversized > 0) {
    parts.push(`${lines.oversized} over ${MAX_LINE_BYTES / (1024 * 1024)} MiB (not read)`);
  }
  return parts.length === 0
    ? undefined
    : `${lines.unreadable + lines.oversized} line(s) not read: ${parts.join(', ')}`;
}

// Rows read with a field the schema types otherwise: that field is NULL in every query.
function malformedNote(lines: SessionLogLines): string | undefined {
  return lines.malformed === 0
    ? undefined
    : `${lines.malformed} row(s) malformed: a field of the wrong type, read as NULL ` +
        `(SELECT * FROM session_lines WHERE malformed)`;
}

// The first rows of a bounded list, and how many more there are.
function listed(rows: readonly SessionQueryRow[], count: number): string {
  return (
    table(rows) +
    (count > rows.length
      ? `… and ${count - rows.length} more (first ${MAX_ALARM_ROWS} listed)\n`
      : '')
  );
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const out = (text: string): void => void process.stdout.write(text);
  const json = (value: unknown): void => out(terminalSafeJson(JSON.stringify(value)) + '\n');
  if (args.command === 'report') {
    const report = await runSessionReport(args.file);
    if (args.json) {
      json(report);
      return 0;
    }
    const t = report.totals;
    const l = report.lines;
    out(`session log: ${terminalSafe(args.file)}\n`);
    out(`sessions: ${String(t['sessions'])} (accepted ${String(t['accepted'])}), `);
    out(`from ${String(t['first_timestamp'] ?? '-')} to ${String(t['last_timestamp'] ?? '-')}\n`);
    const problem = notRead(l);
    if (problem !== undefined) out(`WARNING: ${problem}\n`);
    const malformed = malformedNote(l);
    if (malformed !== undefined) out(`WARNING: ${malformed}\n`);
    if (l.otherSchema > 0) out(`note: ${l.otherSchema} row(s) of another schema, not counted\n`);
    out('\nproducers (daemon)\n' + table(report.daemons) + '\n');
    out('verdict mix by kind / model / provider\n' + table(report.verdictMix) + '\n');
    out('attempts per session\n' + table(report.attempts) + '\n');
    out('duration_ms\n' + table(report.durations) + '\n');
    out('top validation errors\n' + table(report.topValidationErrors));
    return 0;
  }
  if (args.command === 'alarm') {
    const check = await checkSessionAlarm(args.file);
    const { lines } = check;
    const problem = notRead(lines);
    const malformed = malformedNote(lines);
    // Accepted fills whose grounded_in_roster is not a boolean cannot be called grounded.
    const unchecked = lines.unreadable + lines.oversized + check.undecided > args.maxUnreadable;
    const code = check.found > 0 ? 1 : unchecked ? 2 : 0;
    const undecided =
      check.undecided === 0
        ? undefined
        : `${check.undecided} accepted fill row(s) whose grounded_in_roster is not a boolean`;
    // What --max-unreadable tolerated is said so, on an OK.
    const warnings = (tolerated = ''): void => {
      for (const text of [problem, undecided]) {
        if (text !== undefined) out(`WARNING: ${text}${tolerated}\n`);
      }
      if (malformed !== undefined) out(`WARNING: ${malformed}\n`);
    };
    if (args.json) {
      json({
        ok: code === 0,
        code,
        found: check.found,
        rows: check.rows,
        undecided: check.undecided,
        undecidedRows: check.undecidedRows,
        lines,
      });
    } else if (check.found > 0) {
      out(`ALARM: ${check.found} accepted fill row(s) with grounded_in_roster = false\n`);
      out(listed(check.rows, check.found));
      warnings();
    } else if (unchecked) {
      const why = [problem, undecided].filter((text) => text !== undefined).join('; ');
      out(
        `UNCHECKED: ${why}; none of the ${lines.rows} rows read is an ungrounded accepted fill\n`,
      );
      if (check.undecided > 0) out(listed(check.undecidedRows, check.undecided));
      if (malformed !== undefined) out(`WARNING: ${malformed}\n`);
    } else {
      out(`OK: no ungrounded accepted fills in ${lines.rows} rows\n`);
      warnings(' (tolerated by --max-unreadable)');
    }
    return code;
  }
  const { rows, more } = await runSessionSql(args.file, args.sql ?? '', args.maxRows);
  const note = more
    ? `sessions: only the first ${rows.length} rows are shown; add a LIMIT, or --max-rows N\n`
    : undefined;
  if (args.json) {
    json(rows);
    if (note !== undefined) process.stderr.write(note);
  } else {
    out(table(rows, 200));
    if (note !== undefined) out(note);
  }
  return 0;
}

// `sessions report | head` closes stdout early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`sessions: ${error.message}\n${USAGE}`);
    } else if (error instanceof SessionLogNotFoundError) {
      process.stderr.write(
        `sessions: ${terminalSafe(error.message)} (set SESSION_LOG_PATH or pass --file PATH_OR_GLOB)\n`,
      );
    } else {
      process.stderr.write(
        `sessions: ${terminalSafe(error instanceof Error ? error.message : String(error))}\n`,
      );
    }
    // 2 = could not run or check (alarm: 0 none, 1 found).
    process.exitCode = 2;
  },
);
