import type { FileHandle } from 'node:fs/promises';
import { BIGINT, DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { MAX_LINE_BYTES } from '@lakehouse/session-log';
import { LineIndex } from './line-index.js';
import { fileId, openRegularFile } from './regular-file.js';
import { shownName, withoutPath } from './shown-name.js';
import { SESSIONS_TABLE_SQL, insertBulk, insertLines } from './session-table.js';

/** What the store has read of the session log; shown on every page. */
export interface SessionStoreStatus {
  /** The log's base name: clients never see its directory (the path is in the console's log). */
  readonly file: string;
  /** `missing`: no file yet; `tail`/`bulk`: first load under way; `ready`: following appends. */
  readonly state: 'missing' | 'tail' | 'bulk' | 'ready' | 'error';
  readonly fileBytes: number;
  /** Bytes up to the end of the last complete line read (a torn last line waits). */
  readonly indexedBytes: number;
  /** Non-blank complete lines seen; each is a row or a bad line. */
  readonly lines: number;
  /** Lines longer than `maxLineBytes`, counted and skipped. */
  readonly oversizeLines: number;
  /** Lines read that are not rows, over-long ones aside; during `bulk`, of the newest only. */
  readonly badLines: number;
  /** Times the file was replaced or truncated and re-read from the start. */
  readonly resets: number;
  readonly error: string | undefined;
}

export interface SessionStoreOptions {
  /** The JSONL session log; it may not exist yet. */
  readonly path: string;
  /** The newest bytes indexed first on a cold start, so the first page does not wait. */
  readonly tailBytes?: number;
  /** A cold start over a file at least this big reads it with DuckDB's own parallel reader. */
  readonly bulkMinBytes?: number;
  readonly chunkBytes?: number;
  /** Lines longer are counted and skipped (default: the session log's own cap, DuckDB's limit). */
  readonly maxLineBytes?: number;
  readonly logger?: { warn(message: string): void };
  /**
   * DuckDB's memory limit (its size syntax: `1GB`, `512MB`; default {@link DEFAULT_MEMORY_LIMIT}).
   * DuckDB has no temp directory, so a query that needs more fails instead of spilling to disk.
   */
  readonly memoryLimit?: string;
  /** Awaited before DuckDB's reader loads the older lines of a cold start (tests hold `bulk`). */
  readonly beforeBulkLoad?: () => Promise<void>;
}

/** DuckDB's memory limit unless told otherwise (its own default is 80% of the machine's RAM). */
export const DEFAULT_MEMORY_LIMIT = '1GB';
const DEFAULT_TAIL_BYTES = 4 * 1024 * 1024;
const DEFAULT_BULK_MIN_BYTES = 16 * 1024 * 1024;
const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * Follows one session log into an in-memory DuckDB table, by file offset: each refresh reads
 * only the bytes appended since the last one, up to the last complete line (a torn or half-written
 * last line waits for its newline). A replaced or truncated file is re-read from the start. Never
 * writes to the log, and never opens anything but a regular file (reading a FIFO would take rows
 * from its real reader).
 */
export class SessionStore {
  private readonly _instance: DuckDBInstance;
  private readonly _writer: DuckDBConnection;
  private readonly _path: string;
  private readonly _o: Required<Omit<SessionStoreOptions, 'path' | 'memoryLimit'>>;
  private _index: LineIndex;
  private _badLines = 0;
  private _fileId: string | undefined;
  private _fileBytes = 0;
  private _resets = 0;
  private _state: SessionStoreStatus['state'] = 'missing';
  private _error: string | undefined;
  private _refreshing: Promise<void> | undefined;
  private _background: Promise<void> | undefined;
  private _closed = false;

  private constructor(instance: DuckDBInstance, writer: DuckDBConnection, o: SessionStoreOptions) {
    this._instance = instance;
    this._writer = writer;
    this._path = o.path;
    this._o = {
      tailBytes: o.tailBytes ?? DEFAULT_TAIL_BYTES,
      bulkMinBytes: o.bulkMinBytes ?? DEFAULT_BULK_MIN_BYTES,
      chunkBytes: o.chunkBytes ?? DEFAULT_CHUNK_BYTES,
      maxLineBytes: o.maxLineBytes ?? MAX_LINE_BYTES,
      logger: o.logger ?? { warn: () => {} },
      beforeBulkLoad: o.beforeBulkLoad ?? (() => Promise.resolve()),
    };
    this._index = new LineIndex(this._o.maxLineBytes);
  }

  /**
   * Creates the in-memory database; reads nothing until `refresh()`. Rejects a `memoryLimit`
   * DuckDB cannot read.
   */
  static async create(options: SessionStoreOptions): Promise<SessionStore> {
    // No temp directory: DuckDB's default spills into `.tmp` under the working directory.
    const instance = await DuckDBInstance.create(':memory:', {
      memory_limit: options.memoryLimit ?? DEFAULT_MEMORY_LIMIT,
      temp_directory: '',
    });
    const writer = await instance.connect();
    await writer.run(SESSIONS_TABLE_SQL);
    return new SessionStore(instance, writer, options);
  }

  get path(): string {
    return this._path;
  }

  /** A new connection for read queries; the caller closes it. */
  connect(): Promise<DuckDBConnection> {
    return this._instance.connect();
  }

  status(): SessionStoreStatus {
    return {
      file: shownName(this._path),
      state: this._state,
      fileBytes: this._fileBytes,
      indexedBytes: this._index.offset,
      lines: this._index.lines,
      oversizeLines: this._index.oversizeLines,
      badLines: this._badLines,
      resets: this._resets,
      error: this._error === undefined ? undefined : withoutPath(this._error, this._path),
    };
  }

  /**
   * Reads what was appended since the last call. Concurrent calls share one read. On a cold start
   * it resolves once the newest `tailBytes` are in; older lines follow in the background
   * (`settled()` waits for them). Never throws: a failure shows in `status().error`.
   */
  refresh(): Promise<void> {
    if (this._closed) return Promise.resolve();
    this._refreshing ??= this._doRefresh()
      .catch((error: unknown) => {
        this._state = 'error';
        this._error = error instanceof Error ? error.message : String(error);
        this._o.logger.warn(`console: reading ${this._path} failed: ${this._error}`);
      })
      .finally(() => {
        this._refreshing = undefined;
      });
    return this._refreshing;
  }

  /** Resolves when the current refresh and any background load are done. */
  async settled(): Promise<void> {
    await this._refreshing;
    await this._background;
  }

  /**
   * The raw row at `seq`, parsed, when its line still holds session `sessionId`; undefined when
   * the file changed under the store, is no longer a regular file, or the line is not that row.
   * Reads at most `maxLineBytes`.
   */
  async readRow(seq: number, sessionId: string): Promise<unknown> {
    if (this._index.bytes(seq) === 0 || this._index.isOversize(seq)) return undefined;
    let handle: FileHandle | undefined;
    try {
      handle = await openRegularFile(this._path);
      if (handle === undefined || (await fileId(handle)) !== this._fileId) return undefined;
      const row = (await this._index.readJson(handle, seq)) as { session_id?: unknown } | null;
      return typeof row === 'object' && row?.session_id === sessionId ? row : undefined;
    } catch {
      return undefined;
    } finally {
      await handle?.close();
    }
  }

  /** Bytes line `seq` takes in the log (at most; blank lines after it count too); 0 if none. */
  lineBytes(seq: number): number {
    return this._index.bytes(seq);
  }

  /** Closes the database; idempotent. */
  async close(): Promise<void> {
    if (this._closed) return;
    this._closed = true;
    await this._refreshing;
    await this._background?.catch(() => {});
    this._writer.closeSync();
    this._instance.closeSync();
  }

  private async _doRefresh(): Promise<void> {
    const handle = await openRegularFile(this._path);
    if (handle === undefined) {
      if (this._state !== 'bulk') this._state = 'missing';
      this._fileBytes = 0;
      return;
    }
    let handedOver = false;
    try {
      const size = (await handle.stat()).size;
      const id = await fileId(handle);
      // Same inode and no shorter is not enough: a log truncated and written past the old offset
      // has other bytes where the indexed lines were.
      if (
        this._fileId !== undefined &&
        (id !== this._fileId || size < this._index.offset || !(await this._index.matches(handle)))
      ) {
        await this._background;
        await this._reset();
      }
      this._fileId = id;
      this._fileBytes = size;
      this._error = undefined;
      if (this._background !== undefined) return; // the first load is still reading older lines
      if (this._index.lines === 0 && this._index.offset === 0 && size >= this._o.bulkMinBytes) {
        handedOver = await this._coldStart(handle, size);
        return;
      }
      if (size > this._index.scanned || size > this._index.offset) {
        const first = this._index.lines;
        await this._index.scan(handle, size, this._o.chunkBytes);
        await this._ingestExact(handle, first, this._index.lines);
        await this._index.mark(handle);
      }
      this._state = 'ready';
    } finally {
      if (!handedOver) await handle.close();
    }
  }

  private async _reset(): Promise<void> {
    await this._writer.run('DELETE FROM sessions');
    this._index = new LineIndex(this._o.maxLineBytes);
    this._badLines = 0;
    this._resets++;
    this._o.logger.warn(`console: ${this._path} was replaced or truncated; reading it again`);
  }

  // Newest lines first (exactly), then the older ones with DuckDB's parallel reader, which
  // keeps `handle` (true when it did) and closes it when done.
  private async _coldStart(handle: FileHandle, size: number): Promise<boolean> {
    await this._index.scan(handle, size, this._o.chunkBytes);
    await this._index.mark(handle);
    const lines = this._index.lines;
    const tailFrom = this._index.firstLineAtOrAfter(
      Math.max(0, this._index.offset - this._o.tailBytes),
    );
    this._state = 'tail';
    await this._ingestExact(handle, tailFrom, lines);
    this._state = 'bulk';
    this._background = this._loadHead(handle, tailFrom).finally(async () => {
      await handle.close();
      this._background = undefined;
      if (this._state === 'bulk') this._state = 'ready';
    });
    this._background.catch(() => {});
    return true;
  }

  private async _loadHead(handle: FileHandle, lines: number): Promise<void> {
    if (lines === 0) return;
    await this._o.beforeBulkLoad();
    let problem: string;
    try {
      const chunk = this._o.chunkBytes;
      const bulk = await insertBulk(this._writer, this._path, handle, this._index, lines, chunk);
      if (typeof bulk === 'number') {
        this._countBad(0, lines, bulk);
        return;
      }
      problem = bulk;
    } catch (error) {
      problem = `DuckDB's reader failed on ${this._path} (${error instanceof Error ? error.message : String(error)})`;
    }
    this._o.logger.warn(`console: ${problem}; reading the older lines one by one instead`);
    await this._writer.run('DELETE FROM sessions WHERE seq < $lines', { lines }, { lines: BIGINT });
    await this._ingestExact(handle, 0, lines);
  }

  private async _ingestExact(handle: FileHandle, first: number, last: number): Promise<void> {
    const inserted = await insertLines(
      this._writer,
      handle,
      this._index,
      first,
      last,
      this._o.chunkBytes,
    );
    this._countBad(first, last, inserted);
  }

  // Lines [first, last) are classified now: those that gave no row are bad (over-long aside).
  private _countBad(first: number, last: number, rows: number): void {
    this._badLines += last - first - this._index.oversizeBetween(first, last) - rows;
  }
}
