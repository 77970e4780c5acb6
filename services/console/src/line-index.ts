import type { FileHandle } from 'node:fs/promises';
import { FileMark } from './file-mark.js';

/** True when a line has only the whitespace DuckDB's newline-delimited reader skips. */
function isBlankLine(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d && b !== 0x0b && b !== 0x0c) return false;
  }
  return true;
}

const CLOSE_BRACE = 0x7d;
const NO_BYTE = -1;

// The last byte of bytes[start, end) that is not whitespace DuckDB's reader skips, or `before`.
function lastSignificantByte(
  bytes: Uint8Array,
  start: number,
  end: number,
  before: number,
): number {
  for (let i = end - 1; i >= start; i--) {
    const b = bytes[i] as number;
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d && b !== 0x0b && b !== 0x0c) return b;
  }
  return before;
}

/**
 * Where each non-blank complete line of a file starts (its index is the line's `seq`), built by
 * scanning the file forward. The torn last line is not a line until its newline arrives. Lines
 * longer than `maxLineBytes` are recorded and flagged oversize, and so are lines that do not end
 * in `}` (no row does), since DuckDB's reader can run such a line on into the next one.
 */
export class LineIndex {
  private readonly _maxLineBytes: number;
  private _starts = new Float64Array(1024);
  private _lines = 0;
  private readonly _oversize = new Set<number>();
  private readonly _unclosed: number[] = []; // ascending
  private _offset = 0;
  private _scanPos = 0;
  private _pendingBlank = true;
  private _pendingLast = NO_BYTE; // the torn line's last significant byte so far
  // Bytes of what is indexed, kept to tell an append from a rewrite (see `matches`).
  private _mark = FileMark.NONE;

  constructor(maxLineBytes: number) {
    this._maxLineBytes = maxLineBytes;
  }

  /** Complete non-blank lines recorded. */
  get lines(): number {
    return this._lines;
  }

  /** End of the last complete line (its newline included): everything before it is indexed. */
  get offset(): number {
    return this._offset;
  }

  /** How far the scan has read (past `offset` when the last line is torn). */
  get scanned(): number {
    return this._scanPos;
  }

  get oversizeLines(): number {
    return this._oversize.size;
  }

  isOversize(seq: number): boolean {
    return this._oversize.has(seq);
  }

  /**
   * Lines among [first, last) that do not end in `}`, ascending. DuckDB's newline-delimited
   * reader takes a newline as whitespace, so such a line, cut where a value is due (after `:`,
   * `[` or `,`), can take the lines after it as that value.
   */
  unclosedBetween(first: number, last: number): number[] {
    const from = lowerBound(this._unclosed, first);
    return this._unclosed.slice(from, lowerBound(this._unclosed, last, from));
  }

  /** Oversize lines among [first, last). */
  oversizeBetween(first: number, last: number): number {
    let n = 0;
    for (const seq of this._oversize) if (seq >= first && seq < last) n++;
    return n;
  }

  /**
   * Keeps the first bytes of the file and of its last indexed line (where a row's schema,
   * session id and timestamp are), so that `matches` can tell a rewrite from an append.
   */
  async mark(handle: FileHandle): Promise<void> {
    const lastStart = this._lines > 0 ? this.start(this._lines - 1) : 0;
    this._mark = await FileMark.take(handle, lastStart, this._offset);
  }

  /** True when `handle` still holds the bytes `mark` kept: only appends happened since. */
  matches(handle: FileHandle): Promise<boolean> {
    return this._mark.matches(handle);
  }

  /** Where line `seq` starts. */
  start(seq: number): number {
    return this._starts[seq] ?? 0;
  }

  /** Where line `seq`'s bytes end at the latest (the next line's start, or `offset`). */
  end(seq: number): number {
    return seq + 1 < this._lines ? (this._starts[seq + 1] ?? 0) : this._offset;
  }

  /** Bytes line `seq` spans up to the next line (blank lines after it too); 0 for no such line. */
  bytes(seq: number): number {
    return Number.isInteger(seq) && seq >= 0 && seq < this._lines
      ? this.end(seq) - this.start(seq)
      : 0;
  }

  /** The first line starting at or after `offset` (`lines` when none does). */
  firstLineAtOrAfter(offset: number): number {
    let lo = 0;
    let hi = this._lines;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this._starts[mid] ?? 0) < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Line `seq`'s text (at most `maxLineBytes` of it), read from `handle`. */
  async readLine(handle: FileHandle, seq: number): Promise<string> {
    const start = this.start(seq);
    const buffer = Buffer.alloc(Math.min(this.end(seq) - start, this._maxLineBytes));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    const newline = buffer.indexOf(0x0a);
    return buffer.toString('utf8', 0, newline >= 0 && newline < bytesRead ? newline : bytesRead);
  }

  /** Line `seq` parsed as JSON, or undefined when it is not JSON. */
  async readJson(handle: FileHandle, seq: number): Promise<unknown> {
    try {
      return JSON.parse(await this.readLine(handle, seq)) as unknown;
    } catch {
      return undefined;
    }
  }

  /** The text of lines [first, last), read in one go (an oversize line reads as ''). */
  async readLines(handle: FileHandle, first: number, last: number): Promise<string[]> {
    const chunkStart = this.start(first);
    // Up to the last line's newline: never more than `maxLineBytes` of one line (nor of the
    // blank lines after it), and nothing of an oversize one.
    const lastStart = this.start(last - 1);
    const lastBytes = this.isOversize(last - 1)
      ? 0
      : Math.min(this.end(last - 1) - lastStart, this._maxLineBytes + 1);
    const buffer = Buffer.alloc(lastStart - chunkStart + lastBytes);
    await handle.read(buffer, 0, buffer.length, chunkStart);
    const texts: string[] = [];
    for (let k = first; k < last; k++) {
      const from = this.start(k) - chunkStart;
      const newline = this.isOversize(k) ? from : buffer.indexOf(0x0a, from);
      texts.push(buffer.toString('utf8', from, newline >= 0 ? newline : buffer.length));
    }
    return texts;
  }

  /** Records the complete lines in [offset, size), reading `chunkBytes` at a time. */
  async scan(handle: FileHandle, size: number, chunkBytes: number): Promise<void> {
    const buffer = Buffer.alloc(chunkBytes);
    let lineStart = this._offset;
    let pos = this._scanPos;
    let blank = this._pendingBlank; // the torn line's scanned part is all whitespace so far
    let last = this._pendingLast;
    while (pos < size) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - pos), pos);
      if (bytesRead === 0) break;
      let from = 0;
      for (;;) {
        const newline = buffer.indexOf(0x0a, from);
        if (newline < 0 || newline >= bytesRead) {
          if (blank) blank = isBlankLine(buffer, from, bytesRead);
          last = lastSignificantByte(buffer, from, bytesRead, last);
          break;
        }
        if (blank) blank = isBlankLine(buffer, from, newline);
        last = lastSignificantByte(buffer, from, newline, last);
        const end = pos + newline;
        if (!blank) this._push(lineStart, end, last === CLOSE_BRACE);
        lineStart = end + 1;
        blank = true;
        last = NO_BYTE;
        from = newline + 1;
      }
      pos += bytesRead;
    }
    this._offset = lineStart;
    this._scanPos = pos;
    this._pendingBlank = blank;
    this._pendingLast = last;
  }

  private _push(start: number, end: number, closed: boolean): void {
    if (this._lines === this._starts.length) {
      const grown = new Float64Array(this._starts.length * 2);
      grown.set(this._starts);
      this._starts = grown;
    }
    if (end - start > this._maxLineBytes) this._oversize.add(this._lines);
    if (!closed) this._unclosed.push(this._lines);
    this._starts[this._lines++] = start;
  }
}

// The first index of ascending `values` at or after `from` whose value is >= `target`.
function lowerBound(values: readonly number[], target: number, from = 0): number {
  let lo = from;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((values[mid] as number) < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
