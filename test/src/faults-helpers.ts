// Shared helpers of the fault, load, bad-input and secrets suites (`npm run faults`).
import { readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';

/** Prefix of the diagnostic lines `scripts/faults.mjs` collects into its summary table. */
export const FAULTS_DIAGNOSTIC_PREFIX = 'faults: ';

/** One row of the `npm run faults` table: what was injected, what must hold, what was measured. */
export interface FaultEvidence {
  fault: string;
  expectation: string;
  evidence: string;
}

/** Reports evidence for the summary table (a test diagnostic, also visible in plain test output). */
export function reportEvidence(t: TestContext, evidence: FaultEvidence): void {
  t.diagnostic(FAULTS_DIAGNOSTIC_PREFIX + JSON.stringify({ test: t.name, ...evidence }));
}

/** The session log read back: parsed rows, and every line that is not one valid JSON object. */
export interface SessionFile {
  rows: Array<Record<string, unknown>>;
  badLines: string[];
  text: string;
}

/** Reads a JSONL session log (missing file = empty); never throws on bad lines, it reports them. */
export function readSessionFile(file: string): SessionFile {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { rows: [], badLines: [], text: '' };
  }
  const rows: Array<Record<string, unknown>> = [];
  const badLines: string[] = [];
  const lines = text.split('\n');
  // A complete file ends in "\n": the last element is then empty. Anything else is a torn tail.
  const last = lines.pop();
  if (last !== undefined && last !== '') badLines.push(last);
  for (const line of lines) {
    // A writer starts a row on a fresh line when the file may not end in one: skip empty lines.
    if (line === '') continue;
    try {
      const value = JSON.parse(line) as unknown;
      if (typeof value === 'object' && value !== null && !Array.isArray(value))
        rows.push(value as Record<string, unknown>);
      else badLines.push(line);
    } catch {
      badLines.push(line);
    }
  }
  return { rows, badLines, text };
}

/** Resident set size of a process in MiB, from /proc (Linux); undefined when unavailable. */
export function rssMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Sum of every sample of a Prometheus metric family (by name prefix) on a /metrics page. */
export async function metricSum(baseUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match && match[1] === name) sum += Number(match[3]);
  }
  return sum;
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      results[i] = await fn(items[i] as T, i);
    }
  });
  await Promise.all(workers);
  return results;
}
