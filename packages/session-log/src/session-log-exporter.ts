import { constants, statSync } from 'node:fs';
import { mkdir, open, stat, statfs } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { diag } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { SESSION_RECORD_SCHEMA } from './session-record.js';

/** A failed append: the error (with `code` when it came from the OS) and the rows it lost. */
export interface SessionLogWriteError {
  error: Error & { code?: string };
  rows: number;
  path: string;
}

/** Options of {@link SessionLogExporter}. */
export interface SessionLogExporterOptions {
  /** File to append rows to; its directory is created on the first open only. */
  path: string;
  /** Called on every failed append; must not throw. Default: diag.warn once per error code. */
  onError?: (failure: SessionLogWriteError) => void;
}

/** Running totals of an exporter, in rows. */
export interface SessionLogExporterStats {
  written: number;
  failed: number;
}

/** Returns an onError hook that warns once per distinct error code (the rest are counted only). */
export function warnOncePerCode(
  warn: (msg: string, meta?: Record<string, unknown>) => void,
): (failure: SessionLogWriteError) => void {
  const seen = new Set<string>();
  return (failure) => {
    const code = failure.error.code ?? failure.error.name;
    if (seen.has(code)) return;
    seen.add(code);
    warn('session log write failed; rows are dropped until the file is writable again', {
      path: failure.path,
      code,
      error: failure.error.message,
    });
  };
}

function asError(value: unknown): Error & { code?: string } {
  return value instanceof Error ? value : new Error(String(value));
}

interface AppendResult {
  written: number;
  error?: Error & { code?: string };
}

// Short writes in a row (each one still landing some bytes) before a batch is given up.
const MAX_SHORT_WRITES = 3;

/** Bytes one write() carries at most: whole rows, a longer row alone. */
const MAX_WRITE_BYTES = 1024 * 1024;

// Blocks left free beyond a write's bytes: a filesystem may need one or two of its own for the
// write (extent or indirect blocks).
const SPARE_BLOCKS = 2;

// Bytes the filesystem holding `path` has room for (root may use the reserved blocks), or
// undefined when it does not say (statfs failed, or a filesystem that reports no blocks).
async function roomFor(path: string): Promise<number | undefined> {
  try {
    const fs = await statfs(path);
    if (fs.blocks <= 0 || fs.bsize <= 0) return undefined;
    const free = process.getuid?.() === 0 ? fs.bfree : fs.bavail;
    return Math.max(0, (free - SPARE_BLOCKS) * fs.bsize);
  } catch {
    return undefined;
  }
}

function noSpace(free: number, row: number): Error & { code: string } {
  return Object.assign(
    new Error(`no space left on device for the next row (${row} bytes, ${free} free)`),
    { code: 'ENOSPC' },
  );
}

const OPEN_FLAGS =
  constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK;

function notRegularFile(path: string): Error & { code: string } {
  return Object.assign(new Error(`${path} is not a regular file`), { code: 'ENOTREG' });
}

/**
 * Why `path` cannot be a session log, or undefined when it can: it exists and is not a regular
 * file (a directory, a FIFO, a device). A missing file is fine (it is created). For start-up
 * checks; synchronous, never throws.
 */
export function sessionLogPathProblem(path: string): string | undefined {
  try {
    const info = statSync(path);
    if (info.isFile()) return undefined;
    const what = info.isDirectory()
      ? 'a directory'
      : info.isFIFO()
        ? 'a FIFO'
        : info.isSocket()
          ? 'a socket'
          : 'not a regular file';
    return `${path} is ${what}; the session log must be a regular file (or a path that does not exist yet)`;
  } catch {
    return undefined;
  }
}

/**
 * OTel LogRecordExporter that appends `session.iterate.v1` rows (string bodies of records whose
 * eventName is the schema) to one file that other producers may share: O_APPEND descriptor, one
 * write per batch, each write starting with a newline, serialised on a promise chain; the
 * file is never truncated. Best effort: never throws; failures go to `onError` and the batch is
 * FAILED. Refuses a path that is not a regular file (a FIFO never blocks it).
 */
export class SessionLogExporter implements LogRecordExporter {
  private readonly _path: string;
  private readonly _onError: (failure: SessionLogWriteError) => void;
  private _chain: Promise<void> = Promise.resolve();
  private _handle: FileHandle | undefined;
  private _ino = -1;
  private _dev = -1;
  private _opened = false;
  private _shutdown: Promise<void> | undefined;
  private _written = 0;
  private _failed = 0;

  constructor(options: SessionLogExporterOptions) {
    this._path = options.path;
    this._onError = options.onError ?? warnOncePerCode((msg, meta) => diag.warn(msg, meta));
  }

  export(logs: ReadableLogRecord[], resultCallback: (result: ExportResult) => void): void {
    if (this._shutdown !== undefined) {
      resultCallback({
        code: ExportResultCode.FAILED,
        error: new Error('Exporter has been shutdown'),
      });
      return;
    }
    const rows: string[] = [];
    for (const log of logs) {
      const body = log.body;
      if (log.eventName !== SESSION_RECORD_SCHEMA || typeof body !== 'string' || body === '')
        continue;
      rows.push(body.endsWith('\n') ? body : body + '\n');
    }
    if (rows.length === 0) {
      resultCallback({ code: ExportResultCode.SUCCESS });
      return;
    }
    this._chain = this._chain
      .then(async () => {
        const { written, error } = await this._append(rows);
        this._written += written;
        if (error === undefined) {
          resultCallback({ code: ExportResultCode.SUCCESS });
          return;
        }
        const lost = rows.length - written;
        this._failed += lost;
        try {
          this._onError({ error, rows: lost, path: this._path });
        } catch {
          // The hook is best effort too; a throwing hook must not break the chain.
        }
        resultCallback({ code: ExportResultCode.FAILED, error });
      })
      .catch(() => undefined); // a throwing callback must not poison the chain
  }

  /** Rows written and rows lost to failed writes so far. */
  stats(): SessionLogExporterStats {
    return { written: this._written, failed: this._failed };
  }

  /** Resolves once every export accepted so far has been written (or has failed). */
  forceFlush(): Promise<void> {
    return this._chain;
  }

  /** Waits for pending writes, then closes the file. Idempotent; later exports are FAILED. */
  shutdown(): Promise<void> {
    this._shutdown ??= this._chain.then(() => this._close());
    return this._shutdown;
  }

  // One write() per batch of whole rows (at most MAX_WRITE_BYTES, and no more than the disk has
  // room for) on the O_APPEND descriptor keeps rows whole across processes, and every write
  // starts with "\n": a producer killed inside a write leaves a fragment without one, and our rows
  // must not be glued onto it. Only a leading newline in the same write is race-free (checking
  // the file's last byte first is not: another producer may die inside a write between the check
  // and ours). Readers skip the empty lines this leaves. The shared file is never truncated.
  //
  // Why check the room first: every Node write API goes through libuv, which answers a short
  // write(2) by writing the rest with a second write(2) at the file's end at that moment. A
  // write the disk cannot hold would land a fragment, and should space free up between libuv's
  // two calls, the tail of the cut row would land after another producer's row. So a row is
  // only written when the filesystem has room for it; the rest wait for the next batch's check
  // or are counted as failed. What remains (another process fills the disk between our check
  // and our write) is handled below and documented in the README.
  private async _append(rows: readonly string[]): Promise<AppendResult> {
    // One buffer per batch: "\n" + rows. Every row ends with "\n", so the byte before any row
    // is a newline and a write may start there. Row offsets are only counted when needed.
    const buffer = Buffer.from('\n' + rows.join(''), 'utf8');
    let starts: number[] | undefined; // starts[i]: where row i begins; starts[rows.length]: the end
    const rowStarts = (): number[] => {
      if (starts === undefined) {
        starts = [1];
        for (const row of rows) starts.push((starts.at(-1) as number) + Buffer.byteLength(row));
      }
      return starts;
    };
    let written = 0;
    let at = 1; // where row `written` begins
    let shortWrites = 0;
    try {
      while (written < rows.length) {
        const handle = await this._ensureOpen();
        const room = await roomFor(this._path);
        const limit = Math.min(MAX_WRITE_BYTES, room ?? Number.MAX_SAFE_INTEGER);
        let last = rows.length;
        let end = buffer.length;
        if (end - at + 1 > limit) {
          const offsets = rowStarts();
          last = written;
          while (last < rows.length && (offsets[last + 1] as number) - at + 1 <= limit) last += 1;
          if (last === written) {
            const size = (offsets[written + 1] as number) - at + 1;
            if (room !== undefined && size > room) throw noSpace(room, size);
            last = written + 1; // a row longer than MAX_WRITE_BYTES goes alone
          }
          end = offsets[last] as number;
        }
        const { bytesWritten } = await handle.write(buffer, at - 1, end - at + 1, null);
        if (bytesWritten === end - at + 1) {
          written = last;
          at = end;
          shortWrites = 0;
          continue;
        }
        // A short count (another process filled the disk after our check, and libuv's second
        // write failed too): the rows that landed whole count; the cut one is written again from
        // its start on a fresh line, never continued after whatever came meanwhile.
        const offsets = rowStarts();
        while (written < last && (offsets[written + 1] as number) <= at - 1 + bytesWritten) {
          written += 1;
        }
        at = offsets[written] as number;
        if (bytesWritten <= 0 || ++shortWrites >= MAX_SHORT_WRITES) {
          throw Object.assign(new Error('short write: the disk is full'), { code: 'ENOSPC' });
        }
      }
      return { written };
    } catch (error) {
      // Re-open on the next batch: the directory may come back, or the disk may have space.
      await this._close();
      return { written, error: asError(error) };
    }
  }

  private async _ensureOpen(): Promise<FileHandle> {
    if (this._handle !== undefined) {
      // A removed or rotated file would swallow rows through the old descriptor; one stat
      // per batch notices and re-opens the path.
      const current = await stat(this._path).catch(() => undefined);
      if (current !== undefined && current.ino === this._ino && current.dev === this._dev) {
        return this._handle;
      }
      await this._close();
    }
    if (!this._opened) {
      this._opened = true;
      await mkdir(dirname(this._path), { recursive: true }).catch(() => undefined);
    }
    // O_NONBLOCK: a FIFO without a reader must not hang the open (it is refused just below).
    const handle = await open(this._path, OPEN_FLAGS, 0o644);
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw notRegularFile(this._path);
      this._ino = info.ino;
      this._dev = info.dev;
      this._handle = handle;
      return handle;
    } catch (error) {
      this._handle = undefined;
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  private async _close(): Promise<void> {
    const handle = this._handle;
    this._handle = undefined;
    if (handle !== undefined) await handle.close().catch(() => undefined);
  }
}
