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

/**
 * OTel LogRecordExporter that appends `session.iterate.v1` rows (string bodies of records whose
 * eventName is the schema) to one file: O_APPEND descriptor, one write per batch, serialised on
 * a promise chain. Best effort: never throws; failures go to `onError` and the batch is FAILED.
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
  private _torn = false;

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
    let text = '';
    let rows = 0;
    for (const log of logs) {
      const body = log.body;
      if (log.eventName !== SESSION_RECORD_SCHEMA || typeof body !== 'string' || body === '')
        continue;
      text += body.endsWith('\n') ? body : body + '\n';
      rows += 1;
    }
    if (rows === 0) {
      resultCallback({ code: ExportResultCode.SUCCESS });
      return;
    }
    this._chain = this._chain
      .then(async () => {
        const error = await this._append(text);
        if (error === undefined) {
          this._written += rows;
          resultCallback({ code: ExportResultCode.SUCCESS });
          return;
        }
        this._failed += rows;
        try {
          this._onError({ error, rows, path: this._path });
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

  // One write() per batch on the O_APPEND descriptor keeps rows whole across processes.
  private async _append(text: string): Promise<(Error & { code?: string }) | undefined> {
    let handle: FileHandle | undefined;
    let offset = 0;
    try {
      handle = await this._ensureOpen();
      // A fragment left by an earlier failed write must not swallow this batch's first row.
      const buffer = Buffer.from(this._torn ? '\n' + text : text, 'utf8');
      while (offset < buffer.length) {
        // A short write only happens when the disk is full; finishing the row beats leaving
        // a torn line that the next producer's row would be glued to.
        const { bytesWritten } = await handle.write(buffer, offset, buffer.length - offset);
        if (bytesWritten <= 0) throw new Error('write returned 0 bytes');
        offset += bytesWritten;
      }
      this._torn = false;
      return undefined;
    } catch (error) {
      // The batch is counted as failed, so take back the part of it that did land (a disk
      // that filled up mid-write): otherwise the file ends in a torn row.
      if (handle !== undefined && offset > 0) await this._untear(handle, offset);
      // Re-open on the next batch: the directory may come back, or the disk may have space.
      await this._close();
      return asError(error);
    }
  }

  // Truncates the `bytes` this exporter just appended; if that fails, the next write starts
  // with a newline so the fragment stays a line of its own instead of corrupting a row.
  private async _untear(handle: FileHandle, bytes: number): Promise<void> {
    try {
      const { size } = await handle.stat();
      if (size < bytes) throw new Error('file shrank');
      await handle.truncate(size - bytes);
    } catch {
      this._torn = true;
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
    const handle = await open(this._path, 'a');
    try {
      const info = await handle.stat();
      this._ino = info.ino;
      this._dev = info.dev;
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
    this._handle = handle;
    return handle;
  }

  private async _close(): Promise<void> {
    const handle = this._handle;
    this._handle = undefined;
    if (handle !== undefined) await handle.close().catch(() => undefined);
  }
}
