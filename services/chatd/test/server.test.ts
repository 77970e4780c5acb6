import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { protocolPrompt } from './helpers.js';

const DIST_SRC = fileURLToPath(new URL('../src/', import.meta.url));
const CONTRACT = { target_count: 1, city: 'Chicago', state: 'IL', role: 'forklift operator' };

function startServer(env: Record<string, string>): ChildProcessWithoutNullStreams {
  return spawn(
    process.execPath,
    ['--import', join(DIST_SRC, 'instrument.js'), join(DIST_SRC, 'server.js')],
    {
      env: { PATH: process.env['PATH'] ?? '', PORT: '0', HOST: '127.0.0.1', ...env },
      stdio: 'pipe',
    },
  );
}

/** Resolves with the first JSON log line whose message is `message`. */
async function waitForLine(
  child: ChildProcessWithoutNullStreams,
  message: string,
): Promise<Record<string, unknown>> {
  const rl = createInterface({ input: child.stdout });
  for await (const line of rl) {
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed['message'] === message) return parsed;
    } catch {
      // not a log line
    }
  }
  throw new Error(`server exited before logging "${message}"`);
}

void describe('chatd server process', { timeout: 30_000 }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chatd-server-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  void it('exits 2 naming the variable on bad configuration', async () => {
    const child = startServer({ SIM_PHANTOM_RATE: '7' });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 2);
    assert.match(stderr, /SIM_PHANTOM_RATE: must be between 0 and 1, got 7/);
  });

  void it('logs one "listening" line, serves, and drains in-flight requests on SIGTERM', async () => {
    // A missing roster keeps the server up (readyz fails); email prompts do not need it.
    const child = startServer({
      ROSTER_PATH: join(dir, 'missing.parquet'),
      SIM_LATENCY_MS: '400',
      // The readiness line must survive a quiet log level.
      LOG_LEVEL: 'warn',
    });
    const exited = once(child, 'exit');
    try {
      const listening = await waitForLine(child, 'listening');
      assert.equal(listening['service'], 'chatd');
      assert.equal(typeof listening['port'], 'number');
      const url = String(listening['url']);
      assert.equal(url, `http://127.0.0.1:${String(listening['port'])}`);

      assert.equal((await fetch(`${url}/readyz`)).status, 503);
      const inflight = fetch(`${url}/v1/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          provider: 'sim',
          model: 'clean',
          messages: [{ role: 'user', content: protocolPrompt('email', CONTRACT) }],
        }),
      });
      await new Promise((r) => setTimeout(r, 100));
      child.kill('SIGTERM');
      const res = await inflight;
      assert.equal(res.status, 200);
      const [code] = (await exited) as [number];
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
