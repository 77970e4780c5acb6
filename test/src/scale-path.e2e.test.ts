// deploy/README.md's first step past one machine, run for real: several gateways (one chatd),
// requests spread over them as a load balancer would, each gateway writing its own session file,
// and DuckDB reading them all through one glob with `npm run sessions`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  fillRequest,
  postJson,
  readJsonLines,
  REPO_ROOT,
  sharedRoster,
  startService,
  type ServiceHandle,
} from './harness.js';

const GATEWAYS = 3;

void describe('several gateways writing per-producer session files, read by one glob', () => {
  let dir: string;
  let chatd: ServiceHandle;
  const gateways: ServiceHandle[] = [];
  const files: string[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lakehouse-scale-'));
    const roster = await sharedRoster();
    chatd = await startService('chatd', { ROSTER_PATH: roster });
    for (let i = 0; i < GATEWAYS; i++) {
      const file = path.join(dir, `sessions-gateway-${i}.jsonl`);
      files.push(file);
      gateways.push(
        await startService('gateway', {
          ROSTER_PATH: roster,
          CHATD_URL: chatd.url,
          SESSION_LOG_PATH: file,
        }),
      );
    }
  });

  after(async () => {
    for (const gateway of gateways) await gateway.stop();
    await chatd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  void it('reports every session of every gateway, and the alarm stays empty', async () => {
    const traceIds: string[] = [];
    for (let i = 0; i < GATEWAYS * 4; i++) {
      const gateway = gateways[i % GATEWAYS];
      assert.ok(gateway);
      const model = i % 4 === 3 ? 'phantom-always' : 'phantom-once';
      const response = await postJson(
        `${gateway.url}/v1/iterate`,
        await fillRequest(model, { max_iterations: 2 }),
      );
      traceIds.push(String(response.body.trace_id));
    }
    // Each gateway's stop flushes its rows; then every file holds exactly its share.
    for (const gateway of gateways) assert.equal(await gateway.stop(), 0);
    for (const file of files) assert.equal(readJsonLines(file).length, 4, file);

    const glob = path.join(dir, 'sessions-*.jsonl');
    const sessions = (command: string) =>
      spawnSync(
        process.execPath,
        ['packages/session-log/dist/src/sessions-cli.js', command, '--file', glob, '--json'],
        { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 },
      );
    const report = sessions('report');
    assert.equal(report.status, 0, report.stderr);
    const totals = (JSON.parse(report.stdout) as { totals: { sessions: number; accepted: number } })
      .totals;
    assert.equal(totals.sessions, GATEWAYS * 4);
    assert.equal(totals.accepted, GATEWAYS * 3);
    const ids = files.flatMap((f) =>
      readJsonLines<{ session_id: string }>(f).map((r) => r.session_id),
    );
    assert.deepEqual(ids.sort(), [...traceIds].sort());
    const alarm = sessions('alarm');
    assert.equal(alarm.status, 0, `alarm: ${alarm.stderr}${alarm.stdout}`);
  });
});
