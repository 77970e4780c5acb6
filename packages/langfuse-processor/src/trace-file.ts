import { createReadStream, existsSync, statSync } from 'node:fs';
import { buildLangfuseTrees, parseId } from './trace-tree.js';
import type { LangfuseTraceTree } from './trace-tree.js';

/** A trace file line longer than this (bytes) is skipped and counted, never held in memory. */
export const MAX_TRACE_LINE_BYTES = 64 * 1024 * 1024;

/** What a pass over the trace file could not use. */
export interface TraceFileScan {
  /** Lines that are not JSON. */
  malformed: number;
  /** Lines longer than {@link MAX_TRACE_LINE_BYTES}. */
  oversized: number;
}

/** Why `file` cannot be read as a trace file (missing, a directory, a FIFO …), or undefined. */
export function traceFileProblem(file: string): string | undefined {
  if (!existsSync(file))
    return `trace file ${file} not found (set LANGFUSE_TRACE_FILE or pass --file)`;
  const info = statSync(file);
  if (info.isFile()) return undefined;
  const what = info.isDirectory() ? 'a directory' : info.isFIFO() ? 'a FIFO' : 'not a regular file';
  return `${file} is ${what}, not a trace file (pass --file with the OTLP/JSON lines file)`;
}

/**
 * Streams the OTLP/JSON trace file one line (one export request) at a time: memory stays at
 * one chunk plus one line however large the file. Empty lines are skipped; malformed and
 * oversized lines are counted, not thrown.
 */
async function forEachExportRequest(
  file: string,
  onRequest: (request: unknown) => void,
): Promise<TraceFileScan> {
  const scan: TraceFileScan = { malformed: 0, oversized: 0 };
  let parts: Buffer[] = [];
  let bytes = 0;
  let skipping = false;
  const finish = (): void => {
    if (skipping) scan.oversized += 1;
    else if (bytes > 0) {
      const text = Buffer.concat(parts).toString('utf8').trim();
      if (text !== '') {
        try {
          onRequest(JSON.parse(text) as unknown);
        } catch {
          scan.malformed += 1;
        }
      }
    }
    parts = [];
    bytes = 0;
    skipping = false;
  };
  for await (const chunk of createReadStream(file, {
    highWaterMark: 1 << 20,
  }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      take(chunk.subarray(start, nl));
      finish();
      start = nl + 1;
    }
    take(chunk.subarray(start));
  }
  finish();
  return scan;

  function take(piece: Buffer): void {
    if (skipping || piece.length === 0) return;
    if (bytes + piece.length > MAX_TRACE_LINE_BYTES) {
      skipping = true;
      parts = [];
      bytes = 0;
      return;
    }
    parts.push(Buffer.from(piece));
    bytes += piece.length;
  }
}

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A copy of one export request holding only the spans of `traceId`, or undefined when none. */
export function onlyTrace(request: unknown, traceId: string): unknown {
  if (!isObj(request) || !Array.isArray(request['resourceSpans'])) return undefined;
  const resourceSpans = [];
  for (const rs of request['resourceSpans'] as unknown[]) {
    if (!isObj(rs) || !Array.isArray(rs['scopeSpans'])) continue;
    const scopeSpans = [];
    for (const ss of rs['scopeSpans'] as unknown[]) {
      if (!isObj(ss) || !Array.isArray(ss['spans'])) continue;
      const spans = (ss['spans'] as unknown[]).filter(
        (s) => isObj(s) && parseId(s['traceId']) === traceId,
      );
      if (spans.length > 0) scopeSpans.push({ ...ss, spans });
    }
    if (scopeSpans.length > 0) resourceSpans.push({ ...rs, scopeSpans });
  }
  return resourceSpans.length > 0 ? { resourceSpans } : undefined;
}

/** One trace rebuilt from the file (streamed: only its spans are kept), or undefined. */
export async function readTrace(
  file: string,
  traceId: string,
): Promise<{ tree: LangfuseTraceTree | undefined; scan: TraceFileScan }> {
  const requests: unknown[] = [];
  const scan = await forEachExportRequest(file, (request) => {
    const kept = onlyTrace(request, traceId);
    if (kept !== undefined) requests.push(kept);
  });
  return { tree: buildLangfuseTrees(requests).find((t) => t.traceId === traceId), scan };
}

/** One line of `--list`: a trace's id, start, name, verdict and observation count. */
export interface TraceSummary {
  traceId: string;
  startTimeMs: number;
  name: string;
  verdict: string;
  observations: number;
  /** Start of its root span (undefined when no root was seen). */
  rootStartMs: number | undefined;
}

/**
 * Summaries of every trace in the file, in order of first appearance: one pass, a few numbers
 * and strings per trace held (never the spans).
 */
export async function summariseTraces(
  file: string,
): Promise<{ traces: TraceSummary[]; scan: TraceFileScan }> {
  const byId = new Map<string, TraceSummary>();
  const scan = await forEachExportRequest(file, (request) => {
    for (const part of buildLangfuseTrees([request])) {
      let summary = byId.get(part.traceId);
      if (summary === undefined) {
        summary = {
          traceId: part.traceId,
          startTimeMs: part.startTimeMs,
          name: part.name,
          verdict: '',
          observations: 0,
          rootStartMs: undefined,
        };
        byId.set(part.traceId, summary);
      }
      summary.observations += part.observations.length;
      summary.startTimeMs = Math.min(summary.startTimeMs, part.startTimeMs);
      const root = part.roots[0];
      if (
        root !== undefined &&
        (summary.rootStartMs === undefined || root.startTimeMs < summary.rootStartMs)
      ) {
        summary.rootStartMs = root.startTimeMs;
        summary.name = part.name;
        const verdict = part.metadata['final_verdict'];
        summary.verdict = typeof verdict === 'string' ? verdict : '';
      }
    }
  });
  return { traces: [...byId.values()], scan };
}

/**
 * The id of the trace whose root span started most recently (of the trace that started most
 * recently when the file holds no root), in one pass holding O(1) state; undefined for no spans.
 */
export async function lastTraceId(
  file: string,
): Promise<{ traceId: string | undefined; scan: TraceFileScan }> {
  let best: { traceId: string; start: number; root: boolean } | undefined;
  const scan = await forEachExportRequest(file, (request) => {
    for (const part of buildLangfuseTrees([request])) {
      const root = part.roots[0];
      const candidate =
        root !== undefined
          ? { traceId: part.traceId, start: root.startTimeMs, root: true }
          : { traceId: part.traceId, start: part.startTimeMs, root: false };
      // A root always beats a rootless fragment; later starts win (ties: the later line).
      if (
        best === undefined ||
        (candidate.root && !best.root) ||
        (candidate.root === best.root && candidate.start >= best.start)
      ) {
        best = candidate;
      }
    }
  });
  return { traceId: best?.traceId, scan };
}
