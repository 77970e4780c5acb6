import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

/** `path` exists but is a FIFO, a directory, a device …: the console reads regular files only. */
class NotRegularFileError extends Error {
  override readonly name = 'NotRegularFileError';
}

/**
 * Opens `path` for reading, or resolves undefined when it does not exist. Refuses anything but a
 * regular file, judged on the opened handle (no window between a check and the open). The open
 * never blocks: a FIFO opened for reading would wait for a writer, holding a libuv thread, and
 * reading from it would take the lines its real reader is owed.
 */
export async function openRegularFile(path: string): Promise<FileHandle | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // A UNIX socket cannot be opened at all.
    if ((error as NodeJS.ErrnoException).code === 'ENXIO')
      throw new NotRegularFileError(`${path} is not a regular file`);
    throw error;
  }
  try {
    if (!(await handle.stat()).isFile())
      throw new NotRegularFileError(`${path} is not a regular file`);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return handle;
}

/** Which file `handle` is (device and inode): a replaced log is another file. */
export async function fileId(handle: FileHandle): Promise<string> {
  const info = await handle.stat();
  return `${info.dev}:${info.ino}`;
}

/**
 * A path that opens the very file `handle` holds (`/proc/self/fd/N`, or `/dev/fd/N` where there
 * is no /proc), for a reader that takes only paths (DuckDB's): the name may point at a FIFO by
 * now, whatever the handle was checked to be. Undefined when no such path reaches that file.
 */
export async function pathOfHandle(handle: FileHandle): Promise<string | undefined> {
  const id = await fileId(handle);
  for (const dir of ['/proc/self/fd', '/dev/fd']) {
    const candidate = `${dir}/${handle.fd}`;
    try {
      const info = await stat(candidate);
      if (info.isFile() && `${info.dev}:${info.ino}` === id) return candidate;
    } catch {
      // not on this system
    }
  }
  return undefined;
}
