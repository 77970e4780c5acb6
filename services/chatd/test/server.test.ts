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

/** Every JSON log line of `child`, and a wait for the first whose message is `message`. */
function logLines(child: ChildProcessWithoutNullStreams): {
  waitFor(message: string): Promise<Record<string, unknown>>;
} {
  const seen: Record<string, unknown>[] = [];
  const waiters: { message: string; resolve: (line: Record<string, unknown>) => void }[] = [];
  let closed = false;
  const rl = createInterface({ input: child.stdout });
  rl.on('line', (line) => {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // not a log line
    }
    seen.push(parsed);
    for (const w of waiters.filter((x) => x.message === parsed['message'])) w.resolve(parsed);
  });
  const ended = new Promise<void>((resolve) => rl.once('close', resolve)).then(() => {
    closed = true;
  });
  return {
    async waitFor(message) {
      const found = seen.find((l) => l['message'] === message);
      if (found !== undefined) return found;
      if (closed) throw new Error(`server exited before logging "${message}"`);
      return Promise.race([
        new Promise<Record<string, unknown>>((resolve) => waiters.push({ message, resolve })),
        ended.then((): never => {
          throw new Error(`server exited before logging "${message}"`);
        }),
      ]);
    },
  };
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

  void it('exits 2 naming CONTENT_CAPTURE when it is not a boolean (a typo must not mean "on")', async () => {
    const child = startServer({ CONTENT_CAPTURE: 'maybe' });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 2);
    assert.match(stderr, /chatd: invalid configuration: CONTENT_CAPTURE: expected true or false/);
  });

  void it('logs one "listening" line even at LOG_LEVEL=warn, and exits 0 on SIGTERM', async () => {
    const child = startServer({ ROSTER_PATH: join(dir, 'missing.parquet'), LOG_LEVEL: 'warn' });
    const exited = once(child, 'exit');
    try {
      const listening = await logLines(child).waitFor('listening');
      assert.equal(listening['service'], 'chatd');
      assert.equal(typeof listening['port'], 'number');
      const url = String(listening['url']);
      assert.equal(url, `http://127.0.0.1:${String(listening['port'])}`);
      // A missing roster keeps the server up; readiness fails.
      assert.equal((await fetch(`${url}/readyz`)).status, 503);
      child.kill('SIGTERM');
      const [code] = (await exited) as [number];
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  void it('drains a request it is holding when SIGTERM arrives', async () => {
    // Email prompts need no roster. The latency only has to outlast the SIGTERM below, which is
    // sent once chatd has logged that it holds the request, not after a guessed delay.
    const child = startServer({
      ROSTER_PATH: join(dir, 'missing.parquet'),
      SIM_LATENCY_MS: '2000',
      LOG_LEVEL: 'debug',
    });
    const exited = once(child, 'exit');
    try {
      const lines = logLines(child);
      const url = String((await lines.waitFor('listening'))['url']);
      const inflight = fetch(`${url}/v1/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          provider: 'sim',
          model: 'clean',
          messages: [{ role: 'user', content: protocolPrompt('email', CONTRACT) }],
        }),
      });
      await lines.waitFor('chat request');
      child.kill('SIGTERM');
      const shutdown = await lines.waitFor('shutting down');
      assert.equal(shutdown['in_flight'], 1, 'the request was in flight at SIGTERM');
      const res = await inflight;
      assert.equal(res.status, 200);
      const [code] = (await exited) as [number];
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
