import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { BIGINT, DuckDBInstance, VARCHAR } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { MAX_LINE_BYTES, SESSION_RECORD_SCHEMA } from '@lakehouse/session-log';
import { LineIndex } from './line-index.js';
import { BULK_INSERT_SQL, SESSIONS_TABLE_SQL, insertLines } from './session-table.js';

/** What the store has read of the session log; shown on every page. */
export interface SessionStoreStatus {
  readonly path: string;
  /** `missing`: no file yet; `tail`/`bulk`: first load under way; `ready`: following appends. */
  readonly state: 'missing' | 'tail' | 'bulk' | 'ready' | 'error';
  readonly fileBytes: number;
  /** Bytes up to the end of the last complete line read (a torn last line waits). */
  readonly indexedBytes: number;
  /** Non-blank complete lines seen; each is a row or a bad line. */
  readonly lines: number;
  /** Lines longer than `maxLineBytes`, counted and skipped. */
  readonly oversizeLines: number;
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
}

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
  private readonly _tailBytes: number;
  private readonly _bulkMinBytes: number;
  private readonly _chunkBytes: number;
  private readonly _maxLineBytes: number;
  private readonly _logger: { warn(message: string): void };
  private _index: LineIndex;
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
    this._tailBytes = o.tailBytes ?? DEFAULT_TAIL_BYTES;
    this._bulkMinBytes = o.bulkMinBytes ?? DEFAULT_BULK_MIN_BYTES;
    this._chunkBytes = o.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this._maxLineBytes = o.maxLineBytes ?? MAX_LINE_BYTES;
    this._logger = o.logger ?? { warn: () => {} };
    this._index = new LineIndex(this._maxLineBytes);
  }

  /** Creates the in-memory database; reads nothing until `refresh()`. */
  static async create(options: SessionStoreOptions): Promise<SessionStore> {
    const instance = await DuckDBInstance.create(':memory:');
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
      path: this._path,
      state: this._state,
      fileBytes: this._fileBytes,
      indexedBytes: this._index.offset,
      lines: this._index.lines,
      oversizeLines: this._index.oversizeLines,
      resets: this._resets,
      error: this._error,
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
        this._logger.warn(`console: reading ${this._path} failed: ${this._error}`);
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
   * The raw row at `seq`, parsed, or undefined when the file changed under the store or the line
   * is not JSON. Reads at most `maxLineBytes`.
   */
  async readRow(seq: number): Promise<unknown> {
    const index = this._index;
    if (!Number.isInteger(seq) || seq < 0 || seq >= index.lines || index.isOversize(seq))
      return undefined;
    let handle: FileHandle;
    try {
      handle = await open(this._path, 'r');
    } catch {
      return undefined;
    }
    try {
      const info = await handle.stat();
      if (`${info.dev}:${info.ino}` !== this._fileId) return undefined;
      return await this._readLineAt(handle, seq);
    } finally {
      await handle.close();
    }
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
    let info;
    try {
      info = await stat(this._path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      if (this._state !== 'bulk') this._state = 'missing';
      this._fileBytes = 0;
      return;
    }
    if (!info.isFile()) throw new Error(`${this._path} is not a regular file`);
    const fileId = `${info.dev}:${info.ino}`;
    if (this._fileId !== undefined && (fileId !== this._fileId || info.size < this._index.offset)) {
      await this._background;
      await this._reset();
    }
    this._fileId = fileId;
    this._fileBytes = info.size;
    this._error = undefined;
    if (this._background !== undefined) return; // the first load is still reading older lines
    if (this._index.lines === 0 && this._index.offset === 0 && info.size >= this._bulkMinBytes) {
      await this._coldStart(info.size);
      return;
    }
    if (info.size > this._index.scanned || info.size > this._index.offset) {
      const handle = await open(this._path, 'r');
      try {
        const first = this._index.lines;
        await this._index.scan(handle, info.size, this._chunkBytes);
        await this._ingestExact(handle, first, this._index.lines);
      } finally {
        await handle.close();
      }
    }
    this._state = 'ready';
  }

  private async _reset(): Promise<void> {
    await this._writer.run('DELETE FROM sessions');
    this._index = new LineIndex(this._maxLineBytes);
    this._resets++;
    this._logger.warn(`console: ${this._path} was replaced or truncated; reading it again`);
  }

  // Newest lines first (exactly), then the older ones with DuckDB's parallel reader.
  private async _coldStart(size: number): Promise<void> {
    const handle = await open(this._path, 'r');
    let handedOver = false;
    try {
      await this._index.scan(handle, size, this._chunkBytes);
      const lines = this._index.lines;
      const tailFrom = this._index.firstLineAtOrAfter(
        Math.max(0, this._index.offset - this._tailBytes),
      );
      this._state = 'tail';
      await this._ingestExact(handle, tailFrom, lines);
      this._state = 'bulk';
      handedOver = true;
      this._background = this._loadHead(handle, tailFrom).finally(async () => {
        await handle.close();
        this._background = undefined;
        if (this._state === 'bulk') this._state = 'ready';
      });
      this._background.catch(() => {});
    } finally {
      if (!handedOver) await handle.close();
    }
  }

  private async _loadHead(handle: FileHandle, lines: number): Promise<void> {
    if (lines === 0) return;
    try {
      await this._writer.run(
        BULK_INSERT_SQL,
        { path: this._path, lines },
        { path: VARCHAR, lines: BIGINT },
      );
      const misaligned = await this._checkAlignment(handle, lines);
      if (misaligned === undefined) return;
      this._logger.warn(`console: ${misaligned}; reading the older lines one by one instead`);
    } catch (error) {
      this._logger.warn(
        `console: DuckDB's reader failed on ${this._path} (${error instanceof Error ? error.message : String(error)}); reading the older lines one by one instead`,
      );
    }
    await this._writer.run('DELETE FROM sessions WHERE seq < $lines', { lines }, { lines: BIGINT });
    await this._ingestExact(handle, 0, lines);
  }

  // DuckDB's reader numbers the lines it reads; a sample of rows must sit where our scan put them.
  private async _checkAlignment(handle: FileHandle, lines: number): Promise<string | undefined> {
    const samples = new Set<number>([lines - 1]);
    for (let k = 0; k < 32; k++) samples.add(Math.floor((k * lines) / 32));
    const seqs = [...samples].filter((s) => !this._index.isOversize(s));
    const reader = await this._writer.runAndReadAll(
      `SELECT seq, session_id FROM sessions WHERE seq IN (SELECT unnest($seqs::BIGINT[]))`,
      { seqs: `[${seqs.join(',')}]` },
    );
    const found = new Map(reader.getRowObjectsJS().map((r) => [Number(r['seq']), r['session_id']]));
    for (const seq of seqs) {
      const row = await this._readLineAt(handle, seq);
      const expected =
        row !== null &&
        typeof row === 'object' &&
        (row as Record<string, unknown>)['schema'] === SESSION_RECORD_SCHEMA
          ? (row as Record<string, unknown>)['session_id']
          : undefined;
      if (typeof expected === 'string' && found.get(seq) !== expected)
        return `line ${seq + 1} of ${this._path} did not land where expected`;
    }
    return undefined;
  }

  private async _readLineAt(handle: FileHandle, seq: number): Promise<unknown> {
    try {
      return JSON.parse(await this._index.readLine(handle, seq));
    } catch {
      return undefined;
    }
  }

  private _ingestExact(handle: FileHandle, first: number, last: number): Promise<void> {
    return insertLines(this._writer, handle, this._index, first, last, this._chunkBytes);
  }
}
