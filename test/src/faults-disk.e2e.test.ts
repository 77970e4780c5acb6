// A full disk under the session log: ENOSPC from a tiny tmpfs when we may mount one (root),
// otherwise from an error injected into the gateway's file writes. Answers never suffer; every
// row is written or counted; the file stays one valid row per line; writing resumes with space.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { mountTmpfs, unmountTmpfs } from '@lakehouse/test-support';
import { eventually, postJson, startStack, fillRequest } from './harness.js';
import { mapLimit, metricSum, readSessionFile, reportEvidence } from './faults-helpers.js';

const TMPFS_BYTES = 64 * 1024;

// Loaded into the gateway with NODE_OPTIONS=--import: while the flag file exists, every
// FileHandle write fails with ENOSPC, like a full disk.
const INJECTOR = `
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
const flag = process.env.FAULTS_ENOSPC_FLAG;
const probe = await open(process.execPath, 'r');
const proto = Object.getPrototypeOf(probe);
await probe.close();
const write = proto.write;
proto.write = async function (buffer, offset, length, position) {
  if (flag && existsSync(flag)) {
    const err = new Error('ENOSPC: no space left on device, write (injected)');
    err.code = 'ENOSPC';
    err.errno = -28;
    err.syscall = 'write';
    throw err;
  }
  return write.call(this, buffer, offset, length, position);
};
`;

describe('faults: the session-log disk fills up (ENOSPC)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lakehouse-enospc-'));
  const mountPoint = path.join(dir, 'disk');
  mkdirSync(mountPoint);
  // FAULTS_NO_MOUNT=1 forces the injected path (how CI without root runs it).
  const mounted = process.env['FAULTS_NO_MOUNT'] ? false : mountTmpfs(mountPoint, TMPFS_BYTES);
  const how = mounted
    ? 'a real 64 KiB tmpfs'
    : 'an injected write error (tmpfs mount not permitted here)';

  it(`ENOSPC from ${how}: answers stay 200, every row written or counted, file stays valid, writing resumes`, async (t) => {
    const logPath = path.join(mountPoint, 'sessions.jsonl');
    const ballast = path.join(mountPoint, 'ballast');
    const flag = path.join(dir, 'enospc.flag');
    const injector = path.join(dir, 'inject-enospc.mjs');
    const gatewayEnv: Record<string, string> = { SESSION_LOG_PATH: logPath };
    if (mounted) {
      // Space we can give back later, to check the log recovers.
      writeFileSync(ballast, Buffer.alloc(16 * 1024, 0x61));
    } else {
      writeFileSync(injector, INJECTOR);
      gatewayEnv['FAULTS_ENOSPC_FLAG'] = flag;
      gatewayEnv['NODE_OPTIONS'] =
        `${process.env['NODE_OPTIONS'] ?? ''} --import ${pathToFileURL(injector).href}`.trim();
    }
    const stack = await startStack({ gatewayEnv });
    try {
      const request = await fillRequest('clean');
      const send = async () => {
        const res = await postJson(`${stack.gateway.url}/v1/iterate`, request);
        assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 300));
        return String(res.body.trace_id);
      };
      // Phase 1: fill the disk (or, injected: some rows land, then the flag makes writes fail).
      const phase1 = 120;
      const ids: string[] = [];
      ids.push(...(await mapLimit(Array.from({ length: mounted ? phase1 : 20 }), 4, send)));
      if (!mounted) {
        await eventually(
          () => (readSessionFile(logPath).rows.length === 20 ? true : undefined),
          15_000,
          '20 rows before the fault',
        );
        writeFileSync(flag, '1');
        ids.push(...(await mapLimit(Array.from({ length: phase1 - 20 }), 4, send)));
      }
      const lost = async () =>
        (await metricSum(stack.gateway.url, 'lakehouse_session_log_write_failures_total')) +
        (await metricSum(stack.gateway.url, 'lakehouse_session_log_dropped_total'));
      // Every row is either in the file or counted as lost.
      const counted = await eventually(
        async () => {
          const written = readSessionFile(logPath).rows.length;
          const failed = await lost();
          return written + failed >= ids.length && failed > 0 ? { written, failed } : undefined;
        },
        20_000,
        'every row written or counted',
      );
      const warning = await eventually(
        () =>
          stack.gateway.lines.find((l) => /session log write failed/.test(l) && /ENOSPC/.test(l)),
        10_000,
        'an ENOSPC warning',
      );
      assert.ok(warning);

      // Phase 2: space comes back; new rows are written and every line is still one valid row.
      if (mounted) rmSync(ballast);
      else rmSync(flag);
      const phase2 = await mapLimit(Array.from({ length: 8 }), 4, send);
      await eventually(
        () => {
          const rows = readSessionFile(logPath).rows;
          return phase2.every((id) => rows.some((r) => r.session_id === id)) ? true : undefined;
        },
        15_000,
        'rows written again after space came back',
      );
      const code = await stack.gateway.stop();
      assert.equal(code, 0);
      const file = readSessionFile(logPath);
      // The writer starts no write the disk has no room for (libuv would write a cut row's
      // tail later, wherever the file then ends), so the full disk leaves no fragment at all.
      assert.deepEqual(
        file.badLines.map((line) => line.slice(0, 80)),
        [],
        'no fragment line',
      );
      const sessionIds = file.rows.map((r) => String(r.session_id));
      assert.equal(new Set(sessionIds).size, sessionIds.length, 'no row written twice');
      for (const id of sessionIds) assert.ok(ids.includes(id) || phase2.includes(id));
      reportEvidence(t, {
        fault: `session-log disk full (ENOSPC, ${mounted ? '64 KiB tmpfs' : 'injected'})`,
        expectation: 'answers 200, rows written or counted + warned, no fragment line, recovers',
        evidence: `${ids.length}/${ids.length} answered 200; ${counted.written} rows + ${counted.failed} counted lost ≥ ${ids.length}; after space back ${phase2.length}/${phase2.length} rows; ${file.badLines.length} fragment lines`,
      });
    } finally {
      await stack.stop();
    }
  });

  after(() => {
    if (mounted) unmountTmpfs(mountPoint);
    rmSync(dir, { recursive: true, force: true });
  });
});
