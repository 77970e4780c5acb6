import { constants, statSync } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
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

  // One write() per batch on the O_APPEND descriptor keeps rows whole across processes, and
  // every write starts with "\n": a producer killed inside a write leaves a fragment without
  // one, and our rows must not be glued onto it. Only a leading newline in the same write is
  // race-free (checking the file's last byte first is not: another producer may die inside a
  // write between the check and ours). Readers skip the empty lines this leaves. The shared file
  // is never truncated: a failed or short write leaves at most a fragment line (readers count
  // it), never a cut into a row another process committed.
  private async _append(rows: readonly string[]): Promise<AppendResult> {
    let written = 0;
    let shortWrites = 0;
    try {
      while (written < rows.length) {
        const handle = await this._ensureOpen();
        const text = '\n' + (written === 0 ? rows.join('') : rows.slice(written).join(''));
        const buffer = Buffer.from(text, 'utf8');
        const { bytesWritten } = await handle.write(buffer, 0, buffer.length, null);
        if (bytesWritten === buffer.length) return { written: rows.length };
        // A short write (disk full): the rows that landed whole count; the cut one is written
        // again from its start on a fresh line, never continued after whatever came meanwhile.
        let landed = bytesWritten - 1;
        while (written < rows.length && landed >= Buffer.byteLength(rows[written] as string)) {
          landed -= Buffer.byteLength(rows[written] as string);
          written += 1;
        }
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
