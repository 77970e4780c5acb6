import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ExportResult } from '@opentelemetry/core';
import { ExportResultCode } from '@opentelemetry/core';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { SESSION_RECORD_SCHEMA, SessionLogExporter, sessionLogPathProblem } from '../src/index.js';
import type { SessionLogWriteError } from '../src/index.js';

function row(n: number, size = 40): string {
  return `{"schema":"session.iterate.v1","session_id":"${n}","pad":"${'x'.repeat(size)}"}\n`;
}

function exportRows(exporter: SessionLogExporter, rows: string[]): Promise<ExportResult> {
  const logs = rows.map(
    (body) => ({ eventName: SESSION_RECORD_SCHEMA, body }) as unknown as ReadableLogRecord,
  );
  return new Promise((resolve) => exporter.export(logs, resolve));
}

// What another producer following the same protocol does (the Go and Rust appenders too):
// one write, starting with "\n".
function appendLikeAPeer(path: string, line: string): void {
  appendFileSync(path, '\n' + line);
}

// The file's lines without the empty ones (readers skip them).
function lines(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '');
}

type Write = (
  this: unknown,
  ...args: unknown[]
) => Promise<{ bytesWritten: number; buffer: Buffer }>;

// Replaces FileHandle.prototype.write until the returned function is called: the first write
// lands only `landed(length)` bytes, then another producer appends `other`; later writes call
// `later` (the real write when omitted). This sits above libuv: it is the short count the
// exporter sees when libuv's own second write(2) failed too (full-disk.test.ts fills a real disk).
async function shortFirstWrite(
  path: string,
  landed: (length: number) => number,
  other: string,
  later?: () => never,
): Promise<() => void> {
  const probe = await open(process.execPath, 'r');
  const proto = Object.getPrototypeOf(probe) as { write: Write };
  await probe.close();
  const original = proto.write;
  let calls = 0;
  proto.write = async function (this: unknown, ...args: unknown[]) {
    calls += 1;
    if (calls > 1) return later === undefined ? original.apply(this, args) : later();
    const [buffer, offset] = args as [Buffer, number];
    const result = await original.call(this, buffer, offset, landed(buffer.length), null);
    appendLikeAPeer(path, other);
    return result;
  };
  return () => {
    proto.write = original;
  };
}

describe('the shared session file: no producer costs another its row', () => {
  let dir: string;
  let restore: (() => void) | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'session-log-shared-'));
  });
  afterEach(() => {
    restore?.();
    restore = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('a fragment left by a producer killed mid-write stays its own line; our next row is whole', async () => {
    const path = join(dir, 'sessions.jsonl');
    writeFileSync(path, row(1) + row(2).slice(0, 30)); // the dying producer's torn write
    const exporter = new SessionLogExporter({ path });
    assert.equal((await exportRows(exporter, [row(3), row(4)])).code, ExportResultCode.SUCCESS);
    await exporter.shutdown();
    assert.deepEqual(lines(path), [
      row(1).trimEnd(),
      row(2).slice(0, 30),
      row(3).trimEnd(),
      row(4).trimEnd(),
    ]);
  });

  it('a short count from the write (another process filled the disk after the room check) is never continued or truncated: another producer keeps its row, ours is rewritten whole', async () => {
    const path = join(dir, 'sessions.jsonl');
    writeFileSync(path, row(1));
    // Half the batch lands, then another process appends its row before we go on.
    restore = await shortFirstWrite(
      path,
      (length) => Math.floor(length / 2),
      '{"other":"producer"}\n',
    );
    const exporter = new SessionLogExporter({ path });
    const batch = [row(10, 10), row(11, 200), row(12, 10)];
    assert.equal((await exportRows(exporter, batch)).code, ExportResultCode.SUCCESS);
    await exporter.shutdown();
    const file = lines(path);
    assert.ok(readFileSync(path, 'utf8').endsWith('\n'));
    assert.deepEqual(file.slice(0, 2), [row(1).trimEnd(), row(10, 10).trimEnd()]);
    assert.ok(
      row(11, 200).startsWith(file[2] ?? '') && file[2] !== row(11, 200).trimEnd(),
      'the cut row is a fragment',
    );
    assert.deepEqual(file.slice(3), [
      '{"other":"producer"}',
      row(11, 200).trimEnd(),
      row(12, 10).trimEnd(),
    ]);
    assert.deepEqual(exporter.stats(), { written: 3, failed: 0 });
  });

  it('after ENOSPC mid-batch it counts only the rows that did not land, and never cuts the file', async () => {
    const path = join(dir, 'sessions.jsonl');
    writeFileSync(path, row(1));
    restore = await shortFirstWrite(
      path,
      () => 1 + row(20).length + 5, // the leading newline, row 20, 5 bytes of row 21
      '{"other":"committed"}\n',
      () => {
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
          code: 'ENOSPC',
        });
      },
    );
    const failures: SessionLogWriteError[] = [];
    const exporter = new SessionLogExporter({ path, onError: (f) => failures.push(f) });
    assert.equal(
      (await exportRows(exporter, [row(20), row(21), row(22)])).code,
      ExportResultCode.FAILED,
    );
    restore();
    restore = undefined;
    await exporter.shutdown();
    assert.deepEqual(lines(path), [
      row(1).trimEnd(),
      row(20).trimEnd(),
      row(21).slice(0, 5),
      '{"other":"committed"}',
    ]);
    assert.deepEqual(exporter.stats(), { written: 1, failed: 2 });
    assert.deepEqual(
      failures.map((f) => [f.error.code, f.rows]),
      [['ENOSPC', 2]],
    );
  });

  it('refuses a FIFO without blocking (no reader needed), and names directories and FIFOs at start-up', async () => {
    const fifo = join(dir, 'sessions.fifo');
    execFileSync('mkfifo', [fifo]);
    const failures: SessionLogWriteError[] = [];
    const exporter = new SessionLogExporter({ path: fifo, onError: (f) => failures.push(f) });
    assert.equal((await exportRows(exporter, [row(1)])).code, ExportResultCode.FAILED);
    await exporter.shutdown();
    assert.deepEqual(
      failures.map((f) => f.error.code),
      // No reader: the non-blocking open fails at once (ENXIO); with one, the type is refused.
      ['ENXIO'],
    );
    assert.match(
      sessionLogPathProblem(fifo) ?? '',
      /is a FIFO; the session log must be a regular file/,
    );
    mkdirSync(join(dir, 'adir'));
    assert.match(sessionLogPathProblem(join(dir, 'adir')) ?? '', /is a directory/);
    assert.equal(sessionLogPathProblem(join(dir, 'missing.jsonl')), undefined);
    writeFileSync(join(dir, 'file.jsonl'), '');
    assert.equal(sessionLogPathProblem(join(dir, 'file.jsonl')), undefined);
  });
});
