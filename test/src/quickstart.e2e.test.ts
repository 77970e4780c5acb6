import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { eventually, spawnNpmStart } from './harness.js';

const run = promisify(execFile);

describe('quick start as a new user runs it', () => {
  it('`npm start` prints a curl that answers 200, and Ctrl-C stops both services', async () => {
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
    } finally {
      const output = started.output();
      const code = await started.stop();
      assert.equal(code, 0, `npm start exits cleanly on Ctrl-C:\n${output.slice(-2000)}`);
    }
  });
});
