import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sampleContract, WorkerLookup } from '@lakehouse/roster';
import { PREREQUISITES, requires } from '@lakehouse/test-support';
import { eventually, postJson, sharedRoster, startStack, type Stack } from './harness.js';
import { startPrometheus, type Prometheus } from './prometheus.js';

const skip = requires(PREREQUISITES.prometheus);

describe('a real Prometheus scrapes both services', { skip }, () => {
  let stack: Stack;
  let prometheus: Prometheus;

  before(async () => {
    stack = await startStack();
    const target = (url: string) => new URL(url).host;
    prometheus = await startPrometheus([
      { name: 'gateway', target: target(stack.gateway.url) },
      { name: 'chatd', target: target(stack.chatd.url) },
    ]);
  });

  after(async () => {
    await prometheus?.stop();
    await stack?.stop();
  });

  const query = (expr: string) => prometheus.query(expr);

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
