import { constants, statSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

// The session log opens its file the same way (one copy per package: packages never import
// each other). O_NONBLOCK: a FIFO without a reader must not hang the open; it is refused once open.
const OPEN_FLAGS =
  constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK;

/**
 * Why `path` cannot be the trace file, or undefined when it can: it exists and is not a regular
 * file (a directory, a FIFO, a device). A missing file is fine (it is created). For start-up
 * checks; synchronous, never throws.
 */
export function traceFilePathProblem(path: string): string | undefined {
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
    return `${path} is ${what}; the trace file must be a regular file (or a path that does not exist yet)`;
  } catch {
    return undefined;
  }
}

/**
 * Appends one OTLP/JSON `ExportTraceServiceRequest` per line to a file (the offline stand-in for
 * Langfuse, read by the trace CLI). One `write` per line on an O_APPEND descriptor, so several
 * processes can share the file. Opened non-blocking and only kept when it is a regular file.
 * Never throws; FAILED after shutdown, on I/O errors or when the path is not a regular file.
 */
export class OtlpJsonFileSpanExporter implements SpanExporter {
  private readonly _path: string;
  private _fd: FileHandle | undefined;
  private _chain: Promise<void> = Promise.resolve();
  private _shutdown = false;

  constructor(path: string) {
    this._path = path;
  }

  /** The file this exporter appends to. */
  get path(): string {
    return this._path;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this._shutdown) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('exporter is shut down') });
      return;
    }
    // The promise chain is the mutex: lines are written in call order, never interleaved.
    this._chain = this._chain.then(async () => {
      try {
        const bytes = JsonTraceSerializer.serializeRequest(spans);
        if (bytes === undefined) throw new Error('serialization failed');
        const line = Buffer.concat([Buffer.from(bytes), Buffer.from('\n')]);
        if (this._fd === undefined) {
          await mkdir(dirname(this._path), { recursive: true });
          const fd = await open(this._path, OPEN_FLAGS, 0o644);
          if (!(await fd.stat()).isFile()) {
            await fd.close().catch(() => undefined);
            throw new Error(`${this._path} is not a regular file`);
          }
          this._fd = fd;
        }
        // One write per line on an O_APPEND descriptor: other writers never tear it.
        const { bytesWritten } = await this._fd.write(line);
        if (bytesWritten !== line.length)
          throw new Error(`short write (${bytesWritten}/${line.length} bytes)`);
        resultCallback({ code: ExportResultCode.SUCCESS });
      } catch (error) {
        resultCallback({
          code: ExportResultCode.FAILED,
          error: error instanceof Error ? error : new Error(String(error)),
        });
      }
    });
  }

  async forceFlush(): Promise<void> {
    await this._chain;
  }

  async shutdown(): Promise<void> {
    this._shutdown = true;
    await this._chain;
    if (this._fd !== undefined) {
      try {
        await this._fd.close();
      } catch {
        // Closing a descriptor that is already gone is not worth failing shutdown for.
      }
      this._fd = undefined;
    }
  }
}
