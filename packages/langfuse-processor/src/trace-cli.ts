#!/usr/bin/env node
// Offline tree view of the OTLP/JSON trace file: `npm run trace -- <trace_id> | --last | --list [--file f]`.
import { terminalSafe } from './terminal-safe.js';
import {
  MAX_TRACE_LINE_BYTES,
  lastTraceId,
  readTrace,
  summariseTraces,
  traceFileProblem,
} from './trace-file.js';
import type { TraceFileScan } from './trace-file.js';
import { renderTraceTree } from './trace-tree.js';

const USAGE = 'usage: trace <trace_id> | --last | --list  [--file data/traces.jsonl]';

interface Args {
  traceId?: string;
  last: boolean;
  list: boolean;
  file: string;
}

function parseArgs(argv: string[]): Args | string {
  const args: Args = {
    last: false,
    list: false,
    file: process.env['LANGFUSE_TRACE_FILE'] || 'data/traces.jsonl',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--last') args.last = true;
    else if (a === '--list') args.list = true;
    else if (a === '--file') {
      const f = argv[++i];
      if (f === undefined) return '--file needs a path';
      args.file = f;
    } else if (a.startsWith('--file=')) args.file = a.slice('--file='.length);
    else if (a === '-h' || a === '--help') return USAGE;
    else if (a.startsWith('-')) return `unknown option ${a}`;
    else if (args.traceId === undefined) args.traceId = a;
    else return `unexpected argument ${a}`;
  }
  if (args.traceId === undefined && !args.last && !args.list) return USAGE;
  return args;
}

function normaliseId(id: string): string {
  return id.replace(/-/g, '').toLowerCase();
}

// Lines the tree could not use, said once on stderr (never skipped silently).
function warnSkipped(file: string, scan: TraceFileScan): void {
  const parts: string[] = [];
  if (scan.malformed > 0) parts.push(`${scan.malformed} malformed`);
  if (scan.oversized > 0)
    parts.push(`${scan.oversized} over ${MAX_TRACE_LINE_BYTES / (1024 * 1024)} MiB`);
  if (parts.length > 0) {
    process.stderr.write(
      `warning: skipped ${parts.join(' and ')} line(s) in ${terminalSafe(file)}\n`,
    );
  }
}

async function main(): Promise<number> {
  const parsed = parseArgs(process.argv.slice(2));
  if (typeof parsed === 'string') {
    process.stderr.write(`${parsed}\n${parsed === USAGE ? '' : `${USAGE}\n`}`);
    return parsed === USAGE ? 0 : 1;
  }
  const problem = traceFileProblem(parsed.file);
  if (problem !== undefined) {
    process.stderr.write(`${terminalSafe(problem)}\n`);
    return 1;
  }
  if (parsed.list) {
    const { traces, scan } = await summariseTraces(parsed.file);
    warnSkipped(parsed.file, scan);
    for (const t of traces) {
      const when = new Date(t.startTimeMs).toISOString();
      process.stdout.write(
        terminalSafe(`${t.traceId}  ${when}  ${t.name}  ${t.verdict}  ${t.observations} obs`) +
          '\n',
      );
    }
    return 0;
  }
  let traceId = parsed.traceId !== undefined ? normaliseId(parsed.traceId) : undefined;
  if (traceId === undefined) {
    // --last: the trace whose root started most recently (a first pass keeps one candidate).
    const last = await lastTraceId(parsed.file);
    traceId = last.traceId;
    if (traceId === undefined) {
      warnSkipped(parsed.file, last.scan);
      process.stderr.write(`no traces in ${terminalSafe(parsed.file)}\n`);
      return 1;
    }
  }
  const { tree, scan } = await readTrace(parsed.file, traceId);
  warnSkipped(parsed.file, scan);
  if (tree === undefined) {
    process.stderr.write(
      terminalSafe(`trace ${parsed.traceId ?? traceId} not found in ${parsed.file} (try --list)`) +
        '\n',
    );
    return 1;
  }
  process.stdout.write(`${renderTraceTree(tree)}\n`);
  return 0;
}

// `trace --list | head` closes stdout early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(
      `trace: ${terminalSafe(err instanceof Error ? err.message : String(err))}\n`,
    );
    process.exitCode = 1;
  },
);
