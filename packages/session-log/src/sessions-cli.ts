#!/usr/bin/env node
// Forensic queries over session.iterate.v1 logs with DuckDB.
// Usage: npm run sessions -- <report|alarm|sql "SELECT ... FROM sessions"> [--file GLOB] [--json]
import {
  SessionLogNotFoundError,
  runSessionAlarm,
  runSessionReport,
  runSessionSql,
} from './session-queries.js';
import type { SessionQueryRow } from './session-queries.js';
import { formatTextTable } from './text-table.js';

const USAGE =
  'usage: sessions <report|alarm|sql "<query over the view sessions>"> [--file GLOB] [--json]\n' +
  '  default file: $SESSION_LOG_PATH or data/sessions.jsonl\n';

interface Args {
  command: string;
  sql: string | undefined;
  file: string;
  json: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const positional: string[] = [];
  let file = process.env['SESSION_LOG_PATH'] || 'data/sessions.jsonl';
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--json') json = true;
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
  return { command, sql, file, json };
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

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const out = (text: string): void => void process.stdout.write(text);
  if (args.command === 'report') {
    const report = await runSessionReport(args.file);
    if (args.json) {
      out(JSON.stringify(report) + '\n');
      return 0;
    }
    const t = report.totals;
    out(`session log: ${args.file}\n`);
    out(`sessions: ${String(t['sessions'])} (accepted ${String(t['accepted'])}), `);
    out(`from ${String(t['first_timestamp'] ?? '-')} to ${String(t['last_timestamp'] ?? '-')}\n\n`);
    out('verdict mix by kind / model / provider\n' + table(report.verdictMix) + '\n');
    out('attempts per session\n' + table(report.attempts) + '\n');
    out('duration_ms\n' + table(report.durations) + '\n');
    out('top validation errors\n' + table(report.topValidationErrors));
    return 0;
  }
  if (args.command === 'alarm') {
    const rows = await runSessionAlarm(args.file);
    if (args.json) out(JSON.stringify({ ok: rows.length === 0, rows }) + '\n');
    else if (rows.length === 0) out('OK: no ungrounded accepted fills\n');
    else {
      out(`ALARM: ${rows.length} accepted fill row(s) with grounded_in_roster = false\n`);
      out(table(rows));
    }
    return rows.length === 0 ? 0 : 1;
  }
  const rows = await runSessionSql(args.file, args.sql ?? '');
  out(args.json ? JSON.stringify(rows) + '\n' : table(rows, 200));
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`sessions: ${error.message}\n${USAGE}`);
    } else if (error instanceof SessionLogNotFoundError) {
      process.stderr.write(
        `sessions: ${error.message} (set SESSION_LOG_PATH or pass --file PATH_OR_GLOB)\n`,
      );
    } else {
      process.stderr.write(`sessions: ${error instanceof Error ? error.message : String(error)}\n`);
    }
    process.exitCode = 1;
  },
);
