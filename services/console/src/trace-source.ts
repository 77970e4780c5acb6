import type { FileHandle } from 'node:fs/promises';
import { buildLangfuseTrees, onlyTrace } from '@lakehouse/langfuse-processor';
import type { LangfuseTraceTree } from '@lakehouse/langfuse-processor';
import { formatBytes } from './console-limits.js';
import { FileMark } from './file-mark.js';
import { fileId, openRegularFile } from './regular-file.js';
import { shownName, withoutPath } from './shown-name.js';

/** One session's tree, or why there is none. */
export interface TraceLookup {
  readonly tree: LangfuseTraceTree | undefined;
  /** Where the tree was looked for (a file's base name or a Langfuse URL). */
  readonly source: string;
  /** Why there is no tree, or what is incomplete about it. */
  readonly note: string | undefined;
  /** The trace in Langfuse's UI, when Langfuse is configured. */
  readonly link: string | undefined;
}

/** Where the console finds trees. */
export interface TraceSource {
  /** Shown on every page: a file's base name at most, never its path. */
  readonly description: string;
  lookup(traceId: string): Promise<TraceLookup>;
  close(): Promise<void>;
}

const TRACE_ID_IN_LINE = /"traceId":"([0-9a-fA-F]{32})"/g;
/** A lookup reads at most this many bytes of the trace file, and at most this many lines. */
const MAX_TRACE_READ_BYTES = 32 * 1024 * 1024;
const MAX_LINES_PER_TRACE = 1000;
// Longer lines are not indexed: no lookup could read them.
const MAX_LINE_BYTES = MAX_TRACE_READ_BYTES;
const CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * Follows the offline OTLP/JSON trace file by offset, indexing which lines hold spans of which
 * trace, so a session's tree is read from a few lines instead of the whole file. Lines appended
 * later are picked up on the next lookup; a torn last line waits; a replaced, truncated or
 * rewritten file (the session store's rule: same first bytes and last line, or read again) is
 * indexed again. Read only; regular files only.
 */
export class TraceFileSource implements TraceSource {
  private readonly _path: string;
  private readonly _maxReadBytes: number;
  private _index = new Map<string, number[]>();
  private _offset = 0;
  private _fileId: string | undefined;
  private _lastLineStart = 0;
  private _mark = FileMark.NONE;
  private _skipping = false; // inside a line longer than MAX_LINE_BYTES
  private _refreshing: Promise<void> | undefined;

  /** `maxReadBytes` bounds what one lookup reads (default {@link MAX_TRACE_READ_BYTES}). */
  constructor(path: string, options: { maxReadBytes?: number } = {}) {
    this._path = path;
    this._maxReadBytes = options.maxReadBytes ?? MAX_TRACE_READ_BYTES;
  }

  get description(): string {
    return `trace file ${shownName(this._path)}`;
  }

  async lookup(traceId: string): Promise<TraceLookup> {
    const base = { source: shownName(this._path), link: undefined };
    try {
      this._refreshing ??= this._refresh().finally(() => (this._refreshing = undefined));
      await this._refreshing;
    } catch (error) {
      return {
        ...base,
        tree: undefined,
        note: `cannot read the trace file: ${withoutPath(errorText(error), this._path)}`,
      };
    }
    const offsets = this._index.get(traceId.toLowerCase()) ?? [];
    if (offsets.length === 0)
      return { ...base, tree: undefined, note: 'no spans of this trace in the trace file (yet)' };
    const id = traceId.toLowerCase();
    const requests: unknown[] = [];
    let budget = this._maxReadBytes;
    let read = 0;
    const handle = await openRegularFile(this._path).catch(() => undefined);
    if (handle === undefined)
      return { ...base, tree: undefined, note: 'the trace file is gone or not a regular file' };
    try {
      if ((await fileId(handle)) !== this._fileId)
        return {
          ...base,
          tree: undefined,
          note: 'the trace file was replaced; load the page again',
        };
      for (const offset of offsets.slice(0, MAX_LINES_PER_TRACE)) {
        const line = await readLine(handle, offset, budget);
        if (line === undefined) break; // longer than what is left to read
        budget -= Buffer.byteLength(line);
        read++;
        try {
          // Only this trace's spans are kept: a line is a batch of many sessions' spans.
          const kept = onlyTrace(JSON.parse(line) as unknown, id);
          if (kept !== undefined) requests.push(kept);
        } catch {
          // a line that is not JSON adds nothing to the tree
        }
      }
    } finally {
      await handle.close();
    }
    const tree = buildLangfuseTrees(requests).find((t) => t.traceId === id);
    const note =
      read < offsets.length
        ? `only ${read} of the ${offsets.length} lines holding this trace were read (a lookup reads at most ${MAX_LINES_PER_TRACE} lines and ${formatBytes(this._maxReadBytes)})`
        : undefined;
    return {
      ...base,
      tree,
      note: tree ? note : (note ?? 'the trace file has no spans of this trace'),
    };
  }

  async close(): Promise<void> {
    await this._refreshing?.catch(() => {});
  }

  private async _refresh(): Promise<void> {
    const handle = await openRegularFile(this._path);
    if (handle === undefined) return;
    try {
      await this._indexFrom(handle);
    } finally {
      await handle.close();
    }
  }

  private async _indexFrom(handle: FileHandle): Promise<void> {
    const info = await handle.stat();
    const id = await fileId(handle);
    // Same inode and no shorter is not enough: a file truncated and written past the old offset
    // has other bytes where the indexed lines were.
    if (id !== this._fileId || info.size < this._offset || !(await this._mark.matches(handle))) {
      this._index = new Map();
      this._offset = 0;
      this._lastLineStart = 0;
      this._mark = FileMark.NONE;
      this._skipping = false;
      this._fileId = id;
    }
    if (info.size <= this._offset) return;
    let pos = this._offset;
    let pending = Buffer.alloc(0);
    let pendingStart = pos;
    const buffer = Buffer.alloc(CHUNK_BYTES);
    while (pos < info.size) {
      const { bytesRead } = await handle.read(
        buffer,
        0,
        Math.min(CHUNK_BYTES, info.size - pos),
        pos,
      );
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      let from = 0;
      for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, from)) {
        const line =
          pending.length > 0
            ? Buffer.concat([pending, chunk.subarray(from, nl)])
            : chunk.subarray(from, nl);
        if (!this._skipping) this._indexLine(line.toString('utf8'), pendingStart);
        this._lastLineStart = pendingStart;
        this._skipping = false;
        pending = Buffer.alloc(0);
        from = nl + 1;
        pendingStart = pos + from;
        this._offset = pendingStart;
      }
      if (!this._skipping) pending = Buffer.concat([pending, chunk.subarray(from)]);
      if (pending.length > MAX_LINE_BYTES) {
        this._skipping = true;
        pending = Buffer.alloc(0);
      }
      pos += bytesRead;
    }
    this._mark = await FileMark.take(handle, this._lastLineStart, this._offset);
  }

  private _indexLine(line: string, offset: number): void {
    const seen = new Set<string>();
    for (const match of line.matchAll(TRACE_ID_IN_LINE)) {
      const id = (match[1] ?? '').toLowerCase();
      if (seen.has(id)) continue;
      seen.add(id);
      const list = this._index.get(id);
      if (list) list.push(offset);
      else this._index.set(id, [offset]);
    }
  }
}

// The line at `offset`, or undefined when it is longer than `max` bytes.
async function readLine(
  handle: FileHandle,
  offset: number,
  max: number,
): Promise<string | undefined> {
  const parts: Buffer[] = [];
  let total = 0;
  let pos = offset;
  const buffer = Buffer.alloc(Math.min(1024 * 1024, max + 1));
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, pos);
    if (bytesRead === 0) break;
    const nl = buffer.subarray(0, bytesRead).indexOf(0x0a);
    const piece = nl >= 0 ? nl : bytesRead;
    total += piece;
    if (total > max) return undefined;
    parts.push(Buffer.from(buffer.subarray(0, piece)));
    if (nl >= 0) break;
    pos += bytesRead;
  }
  return Buffer.concat(parts).toString('utf8');
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
