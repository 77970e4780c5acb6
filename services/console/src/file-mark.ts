import type { FileHandle } from 'node:fs/promises';

const MARK_BYTES = 256;

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(Math.max(0, length));
  const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
  return buffer.subarray(0, bytesRead);
}

/**
 * The first bytes of a followed file and of the last line read from it (where a row's schema and
 * session id, a span batch's trace ids, sit). A file rewritten in place has other bytes there
 * even when it is no shorter and the same inode; an appended one does not.
 */
export class FileMark {
  private readonly _head: Buffer;
  private readonly _lastStart: number;
  private readonly _last: Buffer;

  private constructor(head: Buffer, lastStart: number, last: Buffer) {
    this._head = head;
    this._lastStart = lastStart;
    this._last = last;
  }

  /** A mark of nothing read yet: every file matches it. */
  static readonly NONE = new FileMark(Buffer.alloc(0), 0, Buffer.alloc(0));

  /** Marks `handle` read up to `offset`, its last line starting at `lastStart`. */
  static async take(handle: FileHandle, lastStart: number, offset: number): Promise<FileMark> {
    return new FileMark(
      await readAt(handle, 0, Math.min(MARK_BYTES, offset)),
      lastStart,
      await readAt(handle, lastStart, Math.min(MARK_BYTES, offset - lastStart)),
    );
  }

  /** True when `handle` still holds the marked bytes: only appends happened since. */
  async matches(handle: FileHandle): Promise<boolean> {
    return (
      (await readAt(handle, 0, this._head.length)).equals(this._head) &&
      (await readAt(handle, this._lastStart, this._last.length)).equals(this._last)
    );
  }
}
