import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { REPO_ROOT, baseEnv, eventually } from './harness.js';

const run = promisify(execFile);

describe('quick start as a new user runs it', () => {
  it('`npm start` prints a curl that answers 200, and Ctrl-C stops both services', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'lakehouse-quickstart-'));
    const env = {
      ...process.env,
      ...baseEnv(),
      LOG_LEVEL: 'info',
      LAKEHOUSE_DATA_DIR: dataDir,
      CHATD_PORT: '0',
      GATEWAY_PORT: '0',
    };
    delete (env as Record<string, string | undefined>).SESSION_LOG_PATH;
    delete (env as Record<string, string | undefined>).LANGFUSE_TRACE_FILE;
    const child = spawn(process.execPath, ['scripts/start.mjs'], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const curl = await eventually(
        () => {
          const match = /^\s*(curl -s -X POST .*\\\n\s*-d '.*')$/m.exec(output);
          return match?.[1];
        },
        60_000,
        `the curl line in:\n${output}`,
      );
      const { stdout } = await run('bash', [
        '-c',
        curl.replace(/\\\n\s*/, ' ') + " -w '\\n%{http_code}'",
      ]);
      const [body = '', status] = stdout.trimEnd().split(/\n(?=\d{3}$)/);
      assert.equal(status, '200', body);
      const parsed = JSON.parse(body) as { trace_id: string; iterations: number };
      assert.match(parsed.trace_id, /^[0-9a-f]{32}$/);
      assert.ok(existsSync(path.join(dataDir, 'roster.parquet')), 'a default roster was generated');
      const row = await eventually(
        () => {
          const file = path.join(dataDir, 'sessions.jsonl');
          return existsSync(file) && readFileSync(file, 'utf8').includes(parsed.trace_id)
            ? true
            : undefined;
        },
        10_000,
        'the session row under data/',
      );
      assert.ok(row);
    } finally {
      child.kill('SIGINT');
      const code = await Promise.race([
        exited,
        new Promise((resolve) => setTimeout(() => resolve('timeout'), 15_000)),
      ]);
      if (code === 'timeout') child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
      assert.equal(code, 0, `npm start exits cleanly on Ctrl-C:\n${output.slice(-2000)}`);
    }
  });
});
