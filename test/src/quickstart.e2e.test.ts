import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { eventually, spawnNpmStart } from './harness.js';

const run = promisify(execFile);

describe('quick start as a new user runs it', () => {
  it('`npm start` prints a curl that answers 200, the printed console URL shows that session, and Ctrl-C stops all three', async () => {
    const started = spawnNpmStart('lakehouse-quickstart-', { LOG_LEVEL: 'info' });
    const { dataDir } = started;
    try {
      const curl = await eventually(
        () => {
          const match = /^\s*(curl -s -X POST .*\\\n\s*-d '.*')$/m.exec(started.output());
          return match?.[1];
        },
        60_000,
        'the curl line in the output of npm start',
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
      const consoleUrl = /^\s+console\s+(http:\/\/\S+)/m.exec(started.output())?.[1];
      assert.ok(consoleUrl, `a console line in the banner:\n${started.output()}`);
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
      const output = started.output();
      const code = await started.stop();
      assert.equal(code, 0, `npm start exits cleanly on Ctrl-C:\n${output.slice(-2000)}`);
    }
  });
});
