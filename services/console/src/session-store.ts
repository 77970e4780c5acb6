import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { BIGINT, DuckDBInstance, VARCHAR } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { MAX_LINE_BYTES, SESSION_COLUMNS, SESSION_RECORD_SCHEMA } from '@lakehouse/session-log';

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
  readonly maxLineBytes?: number;
  readonly logger?: { warn(message: string): void };
}

/** Lines longer than this are counted and skipped: the session log's own cap (DuckDB's limit). */
export const DEFAULT_MAX_LINE_BYTES = MAX_LINE_BYTES;
const DEFAULT_TAIL_BYTES = 4 * 1024 * 1024;
const DEFAULT_BULK_MIN_BYTES = 16 * 1024 * 1024;
const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;

// The session log's columns, less the two the table does not hold (a page reads them back from
// the file). Both readers use them, so a field of another type becomes NULL in both the same way.
const COLUMNS = SESSION_COLUMNS.filter(([name]) => name !== 'prompt' && name !== 'artifact');
const READ_JSON_COLUMNS = `{${COLUMNS.map(([k, t]) => `${k}: '${t}'`).join(', ')}}`;
const JSON_STRUCTURE = JSON.stringify(Object.fromEntries(COLUMNS)).replace(/'/g, "''");

/** The in-memory table the console queries: one row per valid session line, `seq` = line index. */
export const SESSIONS_TABLE_SQL = `CREATE TABLE sessions (
  seq BIGINT, session_id VARCHAR, ts TIMESTAMPTZ, timestamp VARCHAR, daemon VARCHAR, kind VARCHAR,
  model VARCHAR, provider VARCHAR, iterations BIGINT, max_iterations BIGINT, final_verdict VARCHAR,
  grounded_in_roster BOOLEAN, duration_ms BIGINT, attempts INTEGER, phantoms INTEGER, last_error VARCHAR)`;

// `src` yields the read columns plus `seq`. A phantom is the validator's "not in roster" rejection.
function insertSql(src: string): string {
  return `INSERT INTO sessions SELECT seq, session_id, try_cast(timestamp AS TIMESTAMPTZ), timestamp,
    daemon, kind, model, provider, iterations, max_iterations, final_verdict, grounded_in_roster,
    duration_ms, len(attempts),
    len(list_filter(attempts, a -> a.verdict_kind = 'validation_failed' AND contains(a.error, 'not in roster'))),
    list_last(list_filter(list_transform(attempts, a -> a.error), e -> e IS NOT NULL))
  FROM (${src}) WHERE schema = '${SESSION_RECORD_SCHEMA}' AND session_id IS NOT NULL`;
}

const BULK_SQL = insertSql(
  `SELECT *, ordinality - 1 AS seq FROM read_json($path, format = 'nd', columns = ${READ_JSON_COLUMNS},
     ignore_errors = true, maximum_object_size = ${DEFAULT_MAX_LINE_BYTES + 1}) WITH ORDINALITY
   WHERE ordinality <= $lines`,
);

const EXACT_SQL = insertSql(
  `SELECT unnest(r), $base + i - 1 AS seq FROM (
     SELECT CASE WHEN json_valid(line) THEN json_transform(line, '${JSON_STRUCTURE}') END AS r, i
     FROM (SELECT unnest(l) AS line, generate_subscripts(l, 1) AS i
           FROM (SELECT string_split($text, chr(10)) AS l)))`,
);

/** True when a line has only the whitespace DuckDB's newline-delimited reader skips. */
export function isBlankLine(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d && b !== 0x0b && b !== 0x0c) return false;
  }
  return true;
}

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
  // Start offset of each non-blank complete line; index = seq.
  private _starts = new Float64Array(1024);
  private _lines = 0;
  private _oversize = new Set<number>();
  private _offset = 0;
  private _scanPos = 0;
  private _pendingBlank = true;
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
    this._maxLineBytes = o.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this._logger = o.logger ?? { warn: () => {} };
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
      indexedBytes: this._offset,
      lines: this._lines,
      oversizeLines: this._oversize.size,
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
    if (!Number.isInteger(seq) || seq < 0 || seq >= this._lines || this._oversize.has(seq))
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
    if (this._fileId !== undefined && (fileId !== this._fileId || info.size < this._offset)) {
      await this._background;
      await this._reset();
    }
    this._fileId = fileId;
    this._fileBytes = info.size;
    this._error = undefined;
    if (this._background !== undefined) return; // the first load is still reading older lines
    if (this._lines === 0 && this._offset === 0 && info.size >= this._bulkMinBytes) {
      await this._coldStart(info.size);
      return;
    }
    if (info.size > this._scanPos || info.size > this._offset) {
      const handle = await open(this._path, 'r');
      try {
        const first = this._lines;
        await this._scan(handle, info.size);
        await this._ingestExact(handle, first, this._lines);
      } finally {
        await handle.close();
      }
    }
    this._state = 'ready';
  }

  private async _reset(): Promise<void> {
    await this._writer.run('DELETE FROM sessions');
    this._starts = new Float64Array(1024);
    this._lines = 0;
    this._oversize = new Set();
    this._offset = 0;
    this._scanPos = 0;
    this._pendingBlank = true;
    this._resets++;
    this._logger.warn(`console: ${this._path} was replaced or truncated; reading it again`);
  }

  // Newest lines first (exactly), then the older ones with DuckDB's parallel reader.
  private async _coldStart(size: number): Promise<void> {
    const handle = await open(this._path, 'r');
    let handedOver = false;
    try {
      await this._scan(handle, size);
      const lines = this._lines;
      const tailFrom = this._firstLineAtOrAfter(Math.max(0, this._offset - this._tailBytes));
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
        BULK_SQL,
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
    const seqs = [...samples].filter((s) => !this._oversize.has(s));
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
    const start = this._starts[seq] ?? 0;
    const buffer = Buffer.alloc(Math.min(this._lineEnd(seq) - start, this._maxLineBytes));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    const newline = buffer.indexOf(0x0a);
    try {
      return JSON.parse(buffer.toString('utf8', 0, newline >= 0 ? newline : bytesRead));
    } catch {
      return undefined;
    }
  }

  private _firstLineAtOrAfter(offset: number): number {
    let lo = 0;
    let hi = this._lines;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this._starts[mid] ?? 0) < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private _pushLine(start: number, end: number): void {
    if (this._lines === this._starts.length) {
      const grown = new Float64Array(this._starts.length * 2);
      grown.set(this._starts);
      this._starts = grown;
    }
    if (end - start > this._maxLineBytes) this._oversize.add(this._lines);
    this._starts[this._lines++] = start;
  }

  // Records the complete lines in [offset, size); the torn tail stays unscanned past _scanPos.
  private async _scan(handle: FileHandle, size: number): Promise<void> {
    const buffer = Buffer.alloc(this._chunkBytes);
    let lineStart = this._offset;
    let pos = this._scanPos;
    let blank = this._pendingBlank; // the torn line's scanned part is all whitespace so far
    while (pos < size) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - pos), pos);
      if (bytesRead === 0) break;
      let from = 0;
      for (;;) {
        const newline = buffer.indexOf(0x0a, from);
        if (newline < 0 || newline >= bytesRead) {
          if (blank) blank = isBlankLine(buffer, from, bytesRead);
          break;
        }
        if (blank) blank = isBlankLine(buffer, from, newline);
        const end = pos + newline;
        if (!blank) this._pushLine(lineStart, end);
        lineStart = end + 1;
        blank = true;
        from = newline + 1;
      }
      pos += bytesRead;
    }
    this._offset = lineStart;
    this._scanPos = pos;
    this._pendingBlank = blank;
  }

  // Parses lines [first, last) through DuckDB's JSON functions, about `chunkBytes` at a time.
  private async _ingestExact(handle: FileHandle, first: number, last: number): Promise<void> {
    let seq = first;
    while (seq < last) {
      const chunkStart = this._starts[seq] ?? 0;
      let end = seq + 1;
      while (end < last && this._lineEnd(end) - chunkStart <= this._chunkBytes) end++;
      const chunkEnd = this._lineEnd(end - 1);
      const buffer = Buffer.alloc(
        Math.min(chunkEnd - chunkStart, this._chunkBytes + this._maxLineBytes),
      );
      await handle.read(buffer, 0, buffer.length, chunkStart);
      const texts: string[] = [];
      for (let k = seq; k < end; k++) {
        const from = (this._starts[k] ?? 0) - chunkStart;
        const newline = this._oversize.has(k) ? from : buffer.indexOf(0x0a, from);
        texts.push(buffer.toString('utf8', from, newline >= 0 ? newline : buffer.length));
      }
      await this._writer.run(
        EXACT_SQL,
        { text: texts.join('\n'), base: seq },
        { text: VARCHAR, base: BIGINT },
      );
      seq = end;
    }
  }

  // Where line `seq`'s bytes end at the latest (the next line's start, or the last newline + 1).
  private _lineEnd(seq: number): number {
    return seq + 1 < this._lines ? (this._starts[seq + 1] ?? 0) : this._offset;
  }
}
