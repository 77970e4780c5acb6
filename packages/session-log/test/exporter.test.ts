import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Meter } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import {
  SESSION_RECORD_SCHEMA,
  SessionLogExporter,
  createSessionLog,
  encodeSessionRecord,
} from '../src/index.js';
import type { SessionLogEntry, SessionLogWriteError } from '../src/index.js';
import { DIST_SRC, readLog } from './helpers.js';

function log(body: unknown, eventName: string = SESSION_RECORD_SCHEMA): ReadableLogRecord {
  return { eventName, body } as unknown as ReadableLogRecord;
}

function exportAsync(
  exporter: SessionLogExporter,
  logs: ReadableLogRecord[],
): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(logs, resolve));
}

function entry(n: number, overrides: Partial<SessionLogEntry> = {}): SessionLogEntry {
  return {
    sessionId: n.toString(16).padStart(32, '0'),
    kind: 'fill',
    model: 'clean',
    provider: 'sim',
    prompt: `prompt ${n}`,
    iterations: 1,
    maxIterations: 3,
    finalVerdict: 'accepted',
    attempts: [{ iteration: 0, verdictKind: 'accepted' }],
    artifact: { fills: [{ candidate_id: `W-${n}` }] },
    groundedInRoster: true,
    durationMs: n,
    ...overrides,
  };
}

/** A Meter that records counter additions (only counters are used by the package). */
function recordingMeter(): {
  meter: Meter;
  adds: { name: string; value: number; attrs?: unknown }[];
} {
  const adds: { name: string; value: number; attrs?: unknown }[] = [];
  const meter = {
    createCounter: (name: string) => ({
      add: (value: number, attrs?: unknown) => adds.push({ name, value, attrs }),
    }),
  } as unknown as Meter;
  return { meter, adds };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'session-log-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('SessionLogExporter', () => {
  it('appends the string bodies of session records and skips other records', async () => {
    const path = join(dir, 'nested', 'sessions.jsonl');
    const exporter = new SessionLogExporter({ path });
    const first = await exportAsync(exporter, [
      log('{"a":1}\n'),
      log('{"b":2}'),
      log('other', 'not.session'),
      log({ a: 1 }),
    ]);
    assert.equal(first.code, ExportResultCode.SUCCESS);
    assert.equal((await exportAsync(exporter, [log('{"c":3}\n')])).code, ExportResultCode.SUCCESS);
    assert.equal(readLog(path), '{"a":1}\n{"b":2}\n{"c":3}\n');
    assert.deepEqual(exporter.stats(), { written: 3, failed: 0 });
    await exporter.shutdown();
  });

  it('reports an unwritable path through onError and FAILED, never a throw', async () => {
    writeFileSync(join(dir, 'a-file'), 'x');
    const failures: SessionLogWriteError[] = [];
    const onError = (failure: SessionLogWriteError): void => void failures.push(failure);
    const exporter = new SessionLogExporter({
      path: join(dir, 'a-file', 'sessions.jsonl'),
      onError,
    });
    const result = await exportAsync(exporter, [log('{"a":1}\n'), log('{"b":2}\n')]);
    assert.equal(result.code, ExportResultCode.FAILED);
    assert.equal(failures.length, 1);
    assert.equal(failures[0]?.error.code, 'ENOTDIR');
    assert.equal(failures[0]?.rows, 2);
    assert.deepEqual(exporter.stats(), { written: 0, failed: 2 });

    const isDir = new SessionLogExporter({ path: dir, onError });
    assert.equal((await exportAsync(isDir, [log('{}\n')])).code, ExportResultCode.FAILED);
    assert.equal(failures[1]?.error.code, 'EISDIR');
    await Promise.all([exporter.shutdown(), isDir.shutdown()]);
  });

  it('a throwing onError hook does not break later exports', async () => {
    const blocker = join(dir, 'blocker');
    writeFileSync(blocker, '');
    const exporter = new SessionLogExporter({
      path: join(blocker, 'sessions.jsonl'),
      onError: () => {
        throw new Error('hook bug');
      },
    });
    assert.equal((await exportAsync(exporter, [log('{}\n')])).code, ExportResultCode.FAILED);
    rmSync(blocker);
    mkdirSync(blocker);
    assert.equal((await exportAsync(exporter, [log('{}\n')])).code, ExportResultCode.SUCCESS);
    assert.equal(readLog(join(blocker, 'sessions.jsonl')), '{}\n');
    await exporter.shutdown();
  });

  it('recovers when its directory is removed mid-run and recreated', async () => {
    const sub = join(dir, 'logs');
    const path = join(sub, 'sessions.jsonl');
    const failures: SessionLogWriteError[] = [];
    const onError = (failure: SessionLogWriteError): void => void failures.push(failure);
    const exporter = new SessionLogExporter({ path, onError });
    assert.equal((await exportAsync(exporter, [log('{"n":1}\n')])).code, ExportResultCode.SUCCESS);
    rmSync(sub, { recursive: true });
    // The old descriptor would still accept writes into the unlinked file; the exporter notices.
    const lost = await exportAsync(exporter, [log('{"n":2}\n')]);
    assert.equal(lost.code, ExportResultCode.FAILED);
    assert.equal(failures[0]?.error.code, 'ENOENT');
    mkdirSync(sub);
    assert.equal((await exportAsync(exporter, [log('{"n":3}\n')])).code, ExportResultCode.SUCCESS);
    assert.equal(readLog(path), '{"n":3}\n');
    assert.deepEqual(exporter.stats(), { written: 2, failed: 1 });
    await exporter.shutdown();
  });

  it('follows a rotated file to the new path', async () => {
    const path = join(dir, 'sessions.jsonl');
    const exporter = new SessionLogExporter({ path });
    await exportAsync(exporter, [log('{"n":1}\n')]);
    renameSync(path, `${path}.1`);
    await exportAsync(exporter, [log('{"n":2}\n')]);
    assert.equal(readLog(`${path}.1`), '{"n":1}\n');
    assert.equal(readLog(path), '{"n":2}\n');
    await exporter.shutdown();
  });

  it('shutdown flushes pending writes; later exports are FAILED; shutdown is idempotent', async () => {
    const path = join(dir, 'sessions.jsonl');
    const exporter = new SessionLogExporter({ path });
    const results: ExportResult[] = [];
    for (let i = 0; i < 50; i++) exporter.export([log(`{"n":${i}}\n`)], (r) => results.push(r));
    const first = exporter.shutdown();
    assert.equal(exporter.shutdown(), first);
    await first;
    assert.equal(readLog(path).split('\n').length - 1, 50);
    assert.ok(results.every((r) => r.code === ExportResultCode.SUCCESS));
    const late = await exportAsync(exporter, [log('{"late":true}\n')]);
    assert.equal(late.code, ExportResultCode.FAILED);
    assert.ok(!readLog(path).includes('late'));
  });
});

describe('createSessionLog', () => {
  it('an empty or undefined path gives a disabled no-op log', async () => {
    for (const path of ['', undefined]) {
      const sessions = createSessionLog({ path });
      assert.equal(sessions.enabled, false);
      sessions.emit(entry(1));
      await sessions.forceFlush();
      await sessions.shutdown();
      assert.deepEqual(sessions.stats(), { emitted: 0, written: 0, dropped: 0, failed: 0 });
    }
  });

  it('writes exactly the encoded row, even with OTEL_SDK_DISABLED=true', async () => {
    const previous = process.env['OTEL_SDK_DISABLED'];
    process.env['OTEL_SDK_DISABLED'] = 'true';
    try {
      const path = join(dir, 'sessions.jsonl');
      const sessions = createSessionLog({ path, daemon: 'gateway-test' });
      assert.equal(sessions.enabled, true);
      const fixed = entry(1, { timestamp: '2026-05-02T07:30:00.123456Z', prompt: 'Café <&> ⭐' });
      sessions.emit(fixed);
      sessions.emit(
        entry(2, { finalVerdict: 'infra_error', artifact: undefined, groundedInRoster: null }),
      );
      await sessions.forceFlush();
      const lines = readLog(path).split('\n');
      assert.equal(lines.length, 3);
      assert.equal(
        `${lines[0]}\n`,
        encodeSessionRecord({
          ...fixed,
          timestamp: '2026-05-02T07:30:00.123456Z',
          daemon: 'gateway-test',
        }),
      );
      const second = JSON.parse(lines[1] ?? '') as Record<string, unknown>;
      assert.equal(second['daemon'], 'gateway-test');
      assert.match(String(second['timestamp']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      assert.ok(Math.abs(Date.parse(String(second['timestamp'])) - Date.now()) < 60_000);
      await sessions.shutdown();
      assert.deepEqual(sessions.stats(), { emitted: 2, written: 2, dropped: 0, failed: 0 });
    } finally {
      if (previous === undefined) delete process.env['OTEL_SDK_DISABLED'];
      else process.env['OTEL_SDK_DISABLED'] = previous;
    }
  });

  it('snapshots the record at emit time (later mutation does not change the row)', async () => {
    const path = join(dir, 'sessions.jsonl');
    const sessions = createSessionLog({ path });
    const record = entry(7);
    sessions.emit(record);
    (record.artifact as Record<string, unknown>)['fills'] = 'mutated';
    await sessions.shutdown();
    assert.ok(readLog(path).includes('"artifact":{"fills":[{"candidate_id":"W-7"}]}'));
  });

  it('defaults daemon to gateway', async () => {
    const path = join(dir, 'sessions.jsonl');
    const sessions = createSessionLog({ path });
    sessions.emit(entry(1));
    await sessions.shutdown();
    assert.ok(readLog(path).includes('"daemon":"gateway"'));
  });

  it('drops and counts rows past the queue bound', async () => {
    const path = join(dir, 'sessions.jsonl');
    const { meter, adds } = recordingMeter();
    const warnings: string[] = [];
    const sessions = createSessionLog({
      path,
      meter,
      maxQueueSize: 5,
      scheduledDelayMillis: 60_000,
      logger: { warn: (msg) => warnings.push(msg) },
    });
    for (let i = 0; i < 8; i++) sessions.emit(entry(i));
    assert.equal(sessions.stats().dropped, 3);
    await sessions.shutdown();
    assert.deepEqual(sessions.stats(), { emitted: 8, written: 5, dropped: 3, failed: 0 });
    assert.equal(readLog(path).split('\n').length - 1, 5);
    assert.equal(adds.filter((a) => a.name === 'lakehouse.session_log.dropped').length, 3);
    assert.equal(warnings.length, 1);
  });

  it('counts write failures and warns once per error code, never throwing', async () => {
    writeFileSync(join(dir, 'a-file'), '');
    const { meter, adds } = recordingMeter();
    const warnings: { msg: string; meta?: Record<string, unknown> }[] = [];
    const sessions = createSessionLog({
      path: join(dir, 'a-file', 'sessions.jsonl'),
      meter,
      logger: { warn: (msg, meta) => warnings.push({ msg, meta }) },
    });
    sessions.emit(entry(1));
    await sessions.forceFlush();
    sessions.emit(entry(2));
    sessions.emit(entry(3));
    await sessions.forceFlush();
    assert.deepEqual(sessions.stats(), { emitted: 3, written: 0, dropped: 0, failed: 3 });
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.meta?.['code'], 'ENOTDIR');
    const failures = adds.filter((a) => a.name === 'lakehouse.session_log.write_failures');
    assert.equal(
      failures.reduce((n, a) => n + a.value, 0),
      3,
    );
    assert.deepEqual(failures[0]?.attrs, { 'error.type': 'ENOTDIR' });
    await sessions.shutdown();
  });

  it('a session always leaves its row: cyclic, 20,000-deep and throwing artifacts become markers', async () => {
    const path = join(dir, 'sessions.jsonl');
    const warnings: string[] = [];
    const sessions = createSessionLog({ path, logger: { warn: (msg) => warnings.push(msg) } });
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    const deep = JSON.parse('{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000)) as Record<
      string,
      unknown
    >;
    const throwing = {
      toJSON: (): never => {
        throw new Error('boom');
      },
    };
    for (const [i, artifact] of [cyclic, deep, throwing].entries()) {
      assert.doesNotThrow(() => sessions.emit(entry(i, { artifact })));
    }
    await sessions.shutdown();
    const rows = readLog(path)
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { artifact: unknown });
    assert.deepEqual(sessions.stats(), { emitted: 3, written: 3, dropped: 0, failed: 0 });
    assert.deepEqual(
      rows.map((r) => r.artifact),
      [
        { $truncated: { cap: 128, reason: 'depth' } },
        { $truncated: { cap: 128, reason: 'depth' } },
        { $truncated: { reason: 'unencodable' } },
      ],
    );
    assert.deepEqual(warnings, []);
  });

  it('shutdown flushes, is idempotent, and later emits are dropped', async () => {
    const path = join(dir, 'sessions.jsonl');
    const sessions = createSessionLog({ path, scheduledDelayMillis: 60_000 });
    for (let i = 0; i < 1200; i++) sessions.emit(entry(i));
    const first = sessions.shutdown();
    assert.equal(sessions.shutdown(), first);
    await first;
    assert.equal(readLog(path).split('\n').length - 1, 1200);
    sessions.emit(entry(9999));
    await sessions.forceFlush();
    assert.deepEqual(sessions.stats(), { emitted: 1201, written: 1200, dropped: 1, failed: 0 });
  });

  it('its timers do not keep the process alive', async () => {
    const path = join(dir, 'sessions.jsonl');
    const code = `import { createSessionLog } from ${JSON.stringify(join(DIST_SRC, 'index.js'))};
      const s = createSessionLog({ path: process.argv[1], scheduledDelayMillis: 60000 });
      s.emit({ sessionId: 'x', kind: 'fill', model: 'm', provider: 'p', prompt: '', iterations: 0,
        maxIterations: 1, finalVerdict: 'infra_error', attempts: [], groundedInRoster: null, durationMs: 0 });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code, path], {
      stdio: 'inherit',
    });
    // A referenced 60 s timer would keep the child alive; past a generous deadline it is killed
    // and the exit code is no longer 0.
    const deadline = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const exitCode = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(deadline);
    assert.equal(exitCode, 0);
    assert.equal(existsSync(path), false); // no shutdown, so the row was never flushed
  });
});
