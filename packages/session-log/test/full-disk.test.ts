// The session log on a disk that is really full: a 64 KiB tmpfs when we may mount one (root on
// Linux). There, every Node write API goes through libuv, which answers a short write(2) by
// writing the rest with a second write(2) at the file's end at that moment; the exporter must
// therefore never start a write the disk has no room for. Without the mount (not root), statfs
// reports the same small room instead (the same check on an ordinary disk; the Go and Rust cases
// skip).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import fsPromises from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ExportResult } from '@opentelemetry/core';
import { ExportResultCode } from '@opentelemetry/core';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { PREREQUISITES, mountTmpfs, requires, unmountTmpfs } from '@lakehouse/test-support';
import { SESSION_RECORD_SCHEMA, SessionLogExporter, buildReferencePeers } from '../src/index.js';
import type { SessionLogWriteError } from '../src/index.js';
import { REPO_DIR } from './helpers.js';

const TMPFS_BYTES = 64 * 1024;
const PAGE = 4096;

function row(n: number, size = 1000): string {
  return `{"schema":"session.iterate.v1","session_id":"${n}","pad":"${'x'.repeat(size)}"}\n`;
}

function exportRows(exporter: SessionLogExporter, rows: string[]): Promise<ExportResult> {
  const logs = rows.map(
    (body) => ({ eventName: SESSION_RECORD_SCHEMA, body }) as unknown as ReadableLogRecord,
  );
  return new Promise((resolve) => exporter.export(logs, resolve));
}

// The file's non-empty lines, each checked to be one whole row (no fragment, nothing glued).
function wholeRows(path: string): string[] {
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '');
  for (const line of lines) {
    assert.doesNotThrow(
      () => JSON.parse(line),
      `a fragment line: ${line.slice(0, 60)}…${line.slice(-20)}`,
    );
  }
  return lines.map((line) => (JSON.parse(line) as { session_id: string }).session_id);
}

function run(
  command: string,
  args: string[],
  input: string,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
    child.stdin.end(input);
  });
}

describe('the session log on a full disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'session-log-full-'));
  const disk = join(dir, 'disk');
  mkdirSync(disk);
  // FAULTS_NO_MOUNT=1 forces the fallback (how a machine without root runs it).
  const mounted = process.env['FAULTS_NO_MOUNT'] ? false : mountTmpfs(disk, TMPFS_BYTES);
  const how = mounted
    ? 'a real 64 KiB tmpfs'
    : 'statfs reporting 12 KiB free (tmpfs mount not permitted)';
  const ballast = join(disk, 'ballast');
  let restoreStatfs: (() => void) | undefined;

  const freeRoom = (): void => {
    if (mounted) rmSync(ballast, { force: true });
    restoreStatfs?.();
    restoreStatfs = undefined;
  };
  // Leaves about `free` bytes of room for `file` to grow into: a ballast file on the tmpfs, or
  // a statfs that says so (less what `file` has grown by since).
  const leaveRoom = (free: number, file: string): void => {
    freeRoom();
    if (mounted) {
      const fs = statfsSync(disk);
      writeFileSync(ballast, Buffer.alloc(fs.bfree * fs.bsize - free, 0x61));
      return;
    }
    const original = fsPromises.statfs;
    const size = (): number => statSync(file, { throwIfNoEntry: false })?.size ?? 0;
    const before = size();
    const fake = async (path: string) => {
      const real = await original(path);
      const left = Math.max(0, free - (size() - before));
      const blocks = Math.floor(left / real.bsize) + 2; // the exporter keeps 2 spare blocks
      return { ...real, bfree: blocks, bavail: blocks };
    };
    fsPromises.statfs = fake as typeof fsPromises.statfs;
    syncBuiltinESMExports();
    restoreStatfs = () => {
      fsPromises.statfs = original;
      syncBuiltinESMExports();
    };
  };
  after(() => {
    freeRoom();
    if (mounted) unmountTmpfs(disk);
    rmSync(dir, { recursive: true, force: true });
  });

  it(`on ${how}: writes only whole rows, counts the rest, and never leaves a fragment`, async () => {
    const path = join(disk, 'sessions.jsonl');
    writeFileSync(path, '');
    leaveRoom(3 * PAGE, path);
    const failures: SessionLogWriteError[] = [];
    const exporter = new SessionLogExporter({ path, onError: (f) => failures.push(f) });
    const batch = Array.from({ length: 30 }, (_, i) => row(i)); // ~30 KiB into ~12 KiB
    assert.equal((await exportRows(exporter, batch)).code, ExportResultCode.FAILED);
    const landed = wholeRows(path);
    assert.ok(landed.length > 0 && landed.length < 30, `${landed.length} rows landed`);
    assert.deepEqual(
      landed,
      batch.slice(0, landed.length).map((_, i) => String(i)),
    );
    assert.deepEqual(exporter.stats(), { written: landed.length, failed: 30 - landed.length });
    assert.deepEqual(
      failures.map((f) => [f.error.code, f.rows]),
      [['ENOSPC', 30 - landed.length]],
    );

    // Space comes back: the next batch is written whole, after the rows already there.
    freeRoom();
    assert.equal((await exportRows(exporter, [row(100), row(101)])).code, ExportResultCode.SUCCESS);
    await exporter.shutdown();
    assert.deepEqual(wholeRows(path), [...landed, '100', '101']);
  });

  it('a batch over 1 MiB goes out in writes of whole rows of at most 1 MiB, each starting a line', async () => {
    const path = join(dir, 'big.jsonl');
    const sizes: number[] = [];
    const starts: number[] = [];
    const probe = await fsPromises.open(process.execPath, 'r');
    const proto = Object.getPrototypeOf(probe) as { write: FileHandle['write'] };
    await probe.close();
    const original = proto.write;
    proto.write = async function (this: FileHandle, ...args: unknown[]) {
      const [buffer, offset, length] = args as [Buffer, number, number];
      sizes.push(length);
      starts.push(buffer[offset] ?? -1);
      return (original as (...a: unknown[]) => ReturnType<FileHandle['write']>).apply(this, args);
    } as FileHandle['write'];
    try {
      const exporter = new SessionLogExporter({ path });
      const batch = Array.from({ length: 3000 }, (_, i) => row(i)); // ~3 MB
      assert.equal((await exportRows(exporter, batch)).code, ExportResultCode.SUCCESS);
      await exporter.shutdown();
      assert.deepEqual(
        wholeRows(path),
        batch.map((_, i) => String(i)),
      );
    } finally {
      proto.write = original;
    }
    assert.ok(sizes.length >= 3, `${sizes.length} writes`);
    assert.ok(
      sizes.every((n) => n <= 1024 * 1024),
      sizes.join(', '),
    );
    assert.ok(starts.every((byte) => byte === 0x0a));
  });

  describe(
    'the Go and Rust appenders',
    { skip: mounted ? requires(PREREQUISITES.go, PREREQUISITES.cargo) : 'needs a real full disk (root)' },
    () => {
      let peers: { go: string[]; rust: string[] };
      before(async () => {
        peers = await buildReferencePeers(REPO_DIR);
      });

      for (const name of ['go', 'rust'] as const) {
        it(`${name}: a row the disk cuts short is one short write(2) and an error, not continued later`, async () => {
          const path = join(disk, `${name}.jsonl`);
          leaveRoom(PAGE, path); // an 8 KB row into 4 KiB
          try {
            const fixture = JSON.stringify({
              session_id: 's',
              kind: 'fill',
              model: 'm',
              provider: 'p',
              prompt: 'y'.repeat(3900),
              iterations: 1,
              max_iterations: 3,
              final_verdict: 'infra_error',
              attempts: [{ iteration: 0, verdict_kind: 'infra_error', error: 'z'.repeat(3900) }],
              duration_ms: 1,
            });
            const [command, ...args] = peers[name];
            const result = await run(
              command ?? '',
              [...args, 'append', path, name],
              fixture + '\n',
            );
            assert.equal(result.code, 1, result.stderr);
            // The raw write(2)'s short count, not the ENOSPC of a second write after it.
            assert.match(result.stderr, /short write: \d+ of \d+ bytes/);
          } finally {
            freeRoom();
            rmSync(path, { force: true });
          }
        });
      }
    },
  );
});
