import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkerLookup } from '@lakehouse/roster';
import { eventually, freePort, postJson } from '@lakehouse/test-support';
import { fillRequest, readJsonLines, sharedRoster, startService, startStack } from './harness.js';
import type { Stack } from './harness.js';

type FillArtifact = { fills: Array<{ candidate_id: string; name: string }> };
type History = Array<{ iteration: number; raw: string; status: string; error?: string }>;

describe('spine: gateway + chatd (sim) over real HTTP', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });

  it('accepts a grounded fill on the first attempt', async () => {
    const roster = await WorkerLookup.load(stack.rosterPath);
    const res = await postJson(`${stack.gateway.url}/v1/iterate`, await fillRequest('clean'));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.iterations, 1);
    const artifact = res.body.artifact as FillArtifact;
    assert.equal(artifact.fills.length, 2);
    for (const fill of artifact.fills)
      assert.ok(roster.get(fill.candidate_id), `${fill.candidate_id} is in the roster`);
    assert.equal((res.body.validation as { grounded_in_roster: boolean }).grounded_in_roster, true);
    assert.match(String(res.body.trace_id), /^[0-9a-f]{32}$/);
    assert.equal(res.headers.get('x-lakehouse-trace-id'), res.body.trace_id);
  });

  it('retries after a phantom worker and shows the "not in roster" rejection in history', async () => {
    const res = await postJson(
      `${stack.gateway.url}/v1/iterate`,
      await fillRequest('phantom-once'),
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.iterations, 2);
    const history = res.body.history as History;
    assert.deepEqual(
      history.map((h) => h.status),
      ['validation_failed', 'accepted'],
    );
    assert.match(String(history[0]?.error), /candidate_id W-\d+ not in roster/);
  });

  it('answers 422 max_iter_exhausted when the simulator keeps inventing phantoms', async () => {
    const res = await postJson(
      `${stack.gateway.url}/v1/iterate`,
      await fillRequest('phantom-always', { max_iterations: 2 }),
    );
    assert.equal(res.status, 422);
    assert.equal(res.body.final_verdict, 'max_iter_exhausted');
    assert.equal(res.body.iterations, 2);
    assert.deepEqual(
      (res.body.history as History).map((h) => h.status),
      ['validation_failed', 'validation_failed'],
    );
    assert.match(String(res.body.trace_id), /^[0-9a-f]{32}$/);
  });

  it('retries a prose reply with no JSON', async () => {
    const res = await postJson(`${stack.gateway.url}/v1/iterate`, await fillRequest('prose-once'));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(
      (res.body.history as History).map((h) => h.status),
      ['no_json', 'accepted'],
    );
  });

  it('accepts email and playbook artifacts with grounded_in_roster null', async () => {
    for (const kind of ['email', 'playbook']) {
      const res = await postJson(`${stack.gateway.url}/v1/iterate`, {
        kind,
        prompt: `Write a ${kind}.`,
        provider: 'sim',
        model: 'clean',
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(
        (res.body.validation as { grounded_in_roster: unknown }).grounded_in_roster,
        null,
      );
    }
  });

  it('rejects an unknown provider with a 4xx that names it', async () => {
    const res = await postJson(`${stack.gateway.url}/v1/iterate`, {
      ...(await fillRequest('clean')),
      provider: 'nope',
    });
    assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}`);
    assert.match(String(res.body.error), /nope/);
  });

  it('writes one session row per call with session_id = trace_id', async () => {
    const res = await postJson(
      `${stack.gateway.url}/v1/iterate`,
      await fillRequest('phantom-once'),
    );
    const row = await eventually(
      () => readJsonLines(stack.sessionLogPath).find((r) => r.session_id === res.body.trace_id),
      10_000,
      'the session row',
    );
    assert.equal(row.final_verdict, 'accepted');
    assert.equal(row.iterations, 2);
    assert.equal(row.grounded_in_roster, true);
  });
});

describe('spine: infrastructure failures', () => {
  it('answers 502 infra_error when chatd is down, and still writes the session row', async () => {
    const rosterPath = await sharedRoster();
    const sessionLogPath = path.join(
      mkdtempSync(path.join(tmpdir(), 'lakehouse-down-')),
      'sessions.jsonl',
    );
    const gateway = await startService('gateway', {
      ROSTER_PATH: rosterPath,
      CHATD_URL: `http://127.0.0.1:${await freePort()}`,
      SESSION_LOG_PATH: sessionLogPath,
    });
    try {
      const res = await postJson(`${gateway.url}/v1/iterate`, await fillRequest('clean'));
      assert.equal(res.status, 502);
      assert.equal(res.body.final_verdict, 'infra_error');
      assert.equal(res.headers.get('x-lakehouse-trace-id'), res.body.trace_id);
      const row = await eventually(
        () => readJsonLines(sessionLogPath)[0],
        10_000,
        'the infra_error row',
      );
      assert.equal(row.final_verdict, 'infra_error');
      assert.equal(row.session_id, res.body.trace_id);
      const ready = await fetch(`${gateway.url}/readyz`);
      assert.equal(ready.status, 503, 'readyz fails while chatd is unreachable');
    } finally {
      await gateway.stop();
    }
  });

  it('answers 502 infra_error when chatd times out', async () => {
    const stack = await startStack({
      chatdEnv: { SIM_LATENCY_MS: '5000' },
      gatewayEnv: { CHAT_TIMEOUT_MS: '300' },
    });
    try {
      const res = await postJson(`${stack.gateway.url}/v1/iterate`, await fillRequest('clean'));
      assert.equal(res.status, 502);
      assert.equal(res.body.final_verdict, 'infra_error');
      assert.match(String(res.body.error), /time/i);
      // The gateway gave up at its own timeout (300 ms), not after chatd's 5 s latency.
      assert.match(String(res.body.error), /^chatd timed out after 300 ms$/);
    } finally {
      await stack.stop();
    }
  });
});
