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
  it('`npm start` prints a curl that answers 200, the printed console URL shows that session, and Ctrl-C stops all three', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'lakehouse-quickstart-'));
    const env = {
      ...process.env,
      ...baseEnv(),
      LOG_LEVEL: 'info',
      LAKEHOUSE_DATA_DIR: dataDir,
      CHATD_PORT: '0',
      GATEWAY_PORT: '0',
      CONSOLE_PORT: '0',
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

      // The console URL from the banner: its landing page lists the session, its page shows the tree.
      const consoleUrl = /^\s+console\s+(http:\/\/\S+)/m.exec(output)?.[1];
      assert.ok(consoleUrl, `a console line in the banner:\n${output}`);
      const landing = await fetch(consoleUrl);
      assert.equal(landing.status, 200);
      const overview = await landing.text();
      assert.ok(overview.includes(`href="/sessions/${parsed.trace_id}"`), overview);
      const sessionPage = await eventually(
        async () => {
          const page = await (await fetch(`${consoleUrl}/sessions/${parsed.trace_id}`)).text();
          return page.includes('id="tree"') && page.includes('>attempt 1<') ? page : undefined;
        },
        20_000,
        `the session's tree on ${consoleUrl}/sessions/${parsed.trace_id}`,
      );
      assert.match(sessionPage, /validator-error">candidate_id W-\d+ not in roster</);
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
