import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sampleContract, WorkerLookup } from '@lakehouse/roster';
import { eventually, postJson, sharedRoster, startStack, type Stack, freePort } from './harness.js';

const hasPrometheus = spawnSync('prometheus', ['--version']).status === 0;
// CI installs Prometheus (.ci/run); a developer machine without it skips loudly instead of passing silently.
const skip =
  !hasPrometheus && !process.env.CI
    ? 'prometheus is not installed (apt-get install prometheus)'
    : false;

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

describe('a real Prometheus scrapes both services', { skip }, () => {
  let stack: Stack;
  let prometheus: ChildProcess;
  let promUrl: string;
  let dir: string;

  before(async () => {
    stack = await startStack();
    dir = mkdtempSync(path.join(tmpdir(), 'lakehouse-prom-'));
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    const target = (url: string) => new URL(url).host;
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        'scrape_configs:',
        '  - job_name: gateway',
        `    static_configs: [{ targets: ['${target(stack.gateway.url)}'] }]`,
        '  - job_name: chatd',
        `    static_configs: [{ targets: ['${target(stack.chatd.url)}'] }]`,
        '',
      ].join('\n'),
    );
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
  });

  after(async () => {
    prometheus?.kill('SIGTERM');
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function query(expr: string): Promise<VectorSample[]> {
    const response = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await response.json()) as { status: string; data: { result: VectorSample[] } };
    assert.equal(body.status, 'success');
    return body.data.result;
  }

  it('reads the GenAI and session metrics back through the query API', async () => {
    const roster = await WorkerLookup.load(await sharedRoster());
    const contract = sampleContract(roster, 2);
    const request = {
      kind: 'fill',
      prompt: 'Staff it.',
      provider: 'sim',
      context: { target_count: 2, ...contract },
    };
    for (const model of ['clean', 'phantom-once', 'phantom-always']) {
      await postJson(`${stack.gateway.url}/v1/iterate`, { ...request, model, max_iterations: 2 });
    }
    // Both targets up.
    await eventually(
      async () => {
        const up = await query('up');
        return up.length === 2 && up.every((s) => s.value[1] === '1') ? true : undefined;
      },
      20_000,
      'both scrape targets up',
    );

    const sessions = await eventually(
      async () => {
        const result = await query(
          'sum by (final_verdict) ({__name__=~"lakehouse_iterate_sessions.*", kind="fill"})',
        );
        return result.length >= 2 ? result : undefined;
      },
      20_000,
      'session counters in Prometheus',
    );
    const byVerdict = Object.fromEntries(
      sessions.map((s) => [s.metric.final_verdict, Number(s.value[1])]),
    );
    assert.equal(byVerdict.accepted, 2);
    assert.equal(byVerdict.max_iter_exhausted, 1);

    const tokens = await eventually(
      async () => {
        const result = await query(
          'sum by (gen_ai_token_type) ({__name__=~"gen_ai_client_token_usage.*_count", job="chatd"})',
        );
        return result.length === 2 ? result : undefined;
      },
      20_000,
      'gen_ai.client.token.usage in Prometheus',
    );
    // clean: 1 call, phantom-once: 2, phantom-always: 2 → 5 chat calls, one input and one output sample each.
    for (const sample of tokens)
      assert.equal(
        Number(sample.value[1]),
        5,
        `token usage samples for ${sample.metric.gen_ai_token_type}`,
      );

    const duration = await query(
      'sum({__name__=~"gen_ai_client_operation_duration(_seconds)?_count", job="chatd"})',
    );
    assert.equal(Number(duration[0]?.value[1]), 5);

    const failures = await query(
      'sum by (category) ({__name__=~"lakehouse_validation_failures.*"})',
    );
    assert.ok(
      failures.some((s) => s.metric.category === 'consistency' && Number(s.value[1]) >= 3),
      JSON.stringify(failures),
    );

    const http = await query(
      '{__name__=~"http_server_request_duration(_seconds)?_count", job="gateway"}',
    );
    assert.ok(http.length > 0, 'HTTP server duration from the instrumentation');
  });
});
