#!/usr/bin/env node
// Offline tree view of the OTLP/JSON trace file: `npm run trace -- <trace_id> | --last | --list [--file f]`.
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { buildLangfuseTrees, renderTraceTree } from './trace-tree.js';
import type { LangfuseTraceTree } from './trace-tree.js';

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

async function readRequests(file: string): Promise<{ requests: unknown[]; bad: number }> {
  const requests: unknown[] = [];
  let bad = 0;
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    try {
      requests.push(JSON.parse(line) as unknown);
    } catch {
      bad++;
    }
  }
  return { requests, bad };
}

function normaliseId(id: string): string {
  return id.replace(/-/g, '').toLowerCase();
}

async function main(): Promise<number> {
  const parsed = parseArgs(process.argv.slice(2));
  if (typeof parsed === 'string') {
    process.stderr.write(`${parsed}\n${parsed === USAGE ? '' : `${USAGE}\n`}`);
    return parsed === USAGE ? 0 : 1;
  }
  if (!existsSync(parsed.file)) {
    process.stderr.write(
      `trace file ${parsed.file} not found (set LANGFUSE_TRACE_FILE or pass --file)\n`,
    );
    return 1;
  }
  const { requests, bad } = await readRequests(parsed.file);
  if (bad > 0)
    process.stderr.write(`warning: skipped ${bad} malformed line(s) in ${parsed.file}\n`);
  const trees = buildLangfuseTrees(requests);
  if (parsed.list) {
    for (const t of trees) {
      const verdict =
        typeof t.metadata['final_verdict'] === 'string' ? t.metadata['final_verdict'] : '';
      const when = new Date(t.startTimeMs).toISOString();
      process.stdout.write(
        `${t.traceId}  ${when}  ${t.name}  ${verdict}  ${t.observations.length} obs\n`,
      );
    }
    return 0;
  }
  let tree: LangfuseTraceTree | undefined;
  if (parsed.traceId !== undefined) {
    const want = normaliseId(parsed.traceId);
    tree = trees.find((t) => t.traceId === want);
    if (tree === undefined) {
      process.stderr.write(
        `trace ${parsed.traceId} not found in ${parsed.file} (${trees.length} traces; try --list)\n`,
      );
      return 1;
    }
  } else {
    // --last: the trace that started most recently.
    tree = trees.reduce<LangfuseTraceTree | undefined>(
      (a, t) => (a === undefined || t.startTimeMs >= a.startTimeMs ? t : a),
      undefined,
    );
    if (tree === undefined) {
      process.stderr.write(`no traces in ${parsed.file}\n`);
      return 1;
    }
  }
  process.stdout.write(`${renderTraceTree(tree)}\n`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`trace: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
