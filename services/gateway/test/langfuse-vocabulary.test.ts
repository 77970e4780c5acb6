// The gateway's spans as Langfuse receives them: the real SDK start-up (startTelemetry, its
// propagator and hop signer), the real routes and the real LangfuseTranslatingSpanProcessor,
// with an in-memory exporter as the destination. A producer-side rename of any `lakehouse.*`
// attribute changes what arrives here (a missing value or a key the translator does not know).
// Own file: node --test runs each file in its own process, so the global SDK is this file's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  joinedParentSpanId,
  LAKEHOUSE_ATTRIBUTES as LH,
  LANGFUSE_ATTRIBUTES as LF,
  LangfuseTranslatingSpanProcessor,
} from '@lakehouse/langfuse-processor';
import { HopSigner, isTrustedRemoteParent, startTelemetry } from '@lakehouse/telemetry';
import { postJson, startStubChatd, userPrompt } from '@lakehouse/test-support';
import type { StubChatd } from '@lakehouse/test-support';
import { CONTRACT } from './fixtures.js';
import { startGateway } from './helpers.js';
import type { TestGateway } from './helpers.js';

// Small enough that an artifact and a contract can exceed it (the cut must keep them JSON).
const LIMIT = 2048;
process.env['OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT'] = String(LIMIT);
const exporter = new InMemorySpanExporter();
const processor = new LangfuseTranslatingSpanProcessor({
  exporter,
  contentCapture: true,
  isTrustedRemoteParent,
  mask: (value) => value,
  env: {},
});
const telemetry = startTelemetry({
  serviceName: 'gateway',
  spanProcessors: [processor],
  hopSigner: new HopSigner('k'.repeat(8) + 'e'.repeat(8), true),
});

const PHANTOM = '{"fills":[{"candidate_id":"W-1"},{"candidate_id":"W-999"}]}';
const GOOD = '{"fills":[{"candidate_id":"W-1"},{"candidate_id":"W-2"}]}';
// What JSON escapes most: quotes, backslashes, controls; and pairs that must not be split.
const NASTY = '"\\\u0001😀'.repeat(400);
const HUGE = JSON.stringify({
  fills: [
    { candidate_id: 'W-1', name: NASTY },
    { candidate_id: 'W-2', name: 'James Smith' },
  ],
});

// Every attribute each kind of observation arrives with: a producer key the translator no
// longer reads would be copied through and show up here.
const ROOT_KEYS = [
  LH.SESSION_ROOT,
  LH.TRACE_ID_SOURCE,
  LF.OBSERVATION_INPUT,
  LF.OBSERVATION_OUTPUT,
  LF.OBSERVATION_METADATA,
  LF.OBSERVATION_TYPE,
  LF.OBSERVATION_LEVEL,
  LF.TRACE_NAME,
  LF.TRACE_TAGS,
  LF.AS_ROOT,
];
const ATTEMPT_KEYS = [
  LF.OBSERVATION_INPUT,
  LF.OBSERVATION_OUTPUT,
  LF.OBSERVATION_METADATA,
  LF.OBSERVATION_TYPE,
  LF.OBSERVATION_LEVEL,
];
const GUARDRAIL_KEYS = [
  LH.TRACE_ID_SOURCE,
  LF.OBSERVATION_INPUT,
  LF.OBSERVATION_OUTPUT,
  LF.OBSERVATION_TYPE,
  LF.OBSERVATION_LEVEL,
];

function keys(span: ReadableSpan): string[] {
  return Object.keys(span.attributes).sort();
}

function json(value: unknown): unknown {
  return JSON.parse(String(value));
}

/** The translated spans of `traceId`, once the processor has exported them. */
async function exported(traceId: string | null): Promise<ReadableSpan[]> {
  await processor.forceFlush();
  return exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
}

function only(spans: ReadableSpan[], name: string): ReadableSpan {
  const found = spans.filter((s) => s.name === name);
  assert.equal(found.length, 1, `${name} in ${spans.map((s) => s.name).join(', ')}`);
  return found[0] as ReadableSpan;
}

void describe('gateway spans through the Langfuse processor', () => {
  let chatd: StubChatd;
  let gw: TestGateway;
  before(async () => {
    chatd = await startStubChatd((call) =>
      call.model === 'huge' ? HUGE : userPrompt(call).includes('not in roster') ? GOOD : PHANTOM,
    );
    gw = await startGateway({ CHATD_URL: chatd.url });
  });
  after(async () => {
    await gw.close();
    await chatd.close();
    await telemetry.shutdown();
  });

  void it('sends a minted session as one tree: root with the whole request, attempts, guardrails', async () => {
    const res = await postJson(`${gw.url}/v1/iterate`, {
      kind: 'fill',
      prompt: 'Staff it',
      system: 'Answer in JSON.',
      provider: 'stub',
      model: 'phantom-once',
      context: CONTRACT,
      temperature: 0.7,
      max_tokens: 321,
    });
    assert.equal(res.status, 200);
    const spans = await exported(res.traceHeader);
    assert.equal(spans.length, 5, spans.map((s) => s.name).join(', '));

    const root = only(spans, 'iterate fill');
    assert.equal(root.parentSpanContext, undefined);
    assert.deepEqual(keys(root), [...ROOT_KEYS].sort());
    const a = root.attributes;
    assert.equal(a[LF.AS_ROOT], true);
    assert.equal(a[LF.TRACE_NAME], 'iterate:fill');
    assert.deepEqual(a[LF.TRACE_TAGS], ['fill', 'stub', 'phantom-once', 'accepted']);
    assert.equal(a[LF.OBSERVATION_LEVEL], 'DEFAULT');
    assert.deepEqual(json(a[LF.OBSERVATION_INPUT]), {
      kind: 'fill',
      prompt: 'Staff it',
      provider: 'stub',
      model: 'phantom-once',
      context: CONTRACT,
      max_iterations: 3,
      temperature: 0.7,
      max_tokens: 321,
      system: 'Answer in JSON.',
    });
    assert.deepEqual(json(a[LF.OBSERVATION_OUTPUT]), {
      final_verdict: 'accepted',
      artifact: JSON.parse(GOOD),
    });
    assert.deepEqual(json(a[LF.OBSERVATION_METADATA]), {
      final_verdict: 'accepted',
      iterations: 2,
      max_iterations: 3,
      grounded_in_roster: true,
    });

    const rootId = root.spanContext().spanId;
    const attempts = [0, 1].map((n) => only(spans, `attempt ${n}`));
    for (const [n, attempt] of attempts.entries()) {
      assert.equal(attempt.parentSpanContext?.spanId, rootId);
      // A rejected attempt carries the validator's error as its status message too.
      const expected = n === 0 ? [...ATTEMPT_KEYS, LF.OBSERVATION_STATUS_MESSAGE] : ATTEMPT_KEYS;
      assert.deepEqual(keys(attempt), [...expected].sort());
      const input = json(attempt.attributes[LF.OBSERVATION_INPUT]) as Record<string, unknown>;
      assert.deepEqual(
        [input['iteration'], input['model'], input['provider']],
        [n, 'phantom-once', 'stub'],
      );
      assert.ok(String(input['prompt']).startsWith('Staff it\n\nArtifact kind: fill'));
    }
    const [a0, a1] = attempts as [ReadableSpan, ReadableSpan];
    assert.equal(a0.attributes[LF.OBSERVATION_LEVEL], 'WARNING');
    assert.equal(a0.attributes[LF.OBSERVATION_STATUS_MESSAGE], 'candidate_id W-999 not in roster');
    assert.deepEqual(json(a0.attributes[LF.OBSERVATION_OUTPUT]), {
      verdict: 'validation_failed',
      raw: PHANTOM,
      error: 'candidate_id W-999 not in roster',
    });
    assert.deepEqual(json(a0.attributes[LF.OBSERVATION_METADATA]), {
      iteration: 0,
      verdict: 'validation_failed',
    });
    assert.equal(a1.attributes[LF.OBSERVATION_LEVEL], 'DEFAULT');
    assert.deepEqual(json(a1.attributes[LF.OBSERVATION_OUTPUT]), {
      verdict: 'accepted',
      raw: GOOD,
      error: null,
    });

    // The validate hop is signed: each guardrail is its attempt's child, not a root.
    const guardrails = spans.filter((s) => s.name === 'validate fill');
    assert.equal(guardrails.length, 2);
    for (const [n, guardrail] of guardrails
      .sort((x, y) => (x.startTime[0] - y.startTime[0]) * 1e9 + x.startTime[1] - y.startTime[1])
      .entries()) {
      assert.equal(guardrail.parentSpanContext?.spanId, attempts[n]?.spanContext().spanId);
      assert.deepEqual(keys(guardrail), [...GUARDRAIL_KEYS].sort());
      assert.equal(guardrail.attributes[LF.OBSERVATION_TYPE], 'guardrail');
      assert.equal(guardrail.attributes[LH.TRACE_ID_SOURCE], 'traceparent');
      assert.deepEqual(json(guardrail.attributes[LF.OBSERVATION_INPUT]), { kind: 'fill' });
      const report = json(guardrail.attributes[LF.OBSERVATION_OUTPUT]) as { ok: boolean };
      assert.equal(report.ok, n === 1);
      assert.equal(guardrail.attributes[LF.OBSERVATION_LEVEL], n === 1 ? 'DEFAULT' : 'WARNING');
    }
  });

  void it('sends an artifact and a contract over the attribute limit as JSON strings of their beginnings', async () => {
    const context = { ...CONTRACT, note: NASTY };
    const res = await postJson(`${gw.url}/v1/iterate`, {
      kind: 'fill',
      prompt: 'Staff it',
      provider: 'stub',
      model: 'huge',
      context,
    });
    assert.equal(res.status, 200);
    assert.ok(HUGE.length > LIMIT && JSON.stringify(context).length > LIMIT);
    const root = only(await exported(res.traceHeader), 'iterate fill');
    const output = json(root.attributes[LF.OBSERVATION_OUTPUT]) as { artifact: unknown };
    const input = json(root.attributes[LF.OBSERVATION_INPUT]) as { context: unknown };
    for (const [cut, whole] of [
      [output.artifact, HUGE],
      [input.context, JSON.stringify(context)],
    ] as const) {
      assert.equal(typeof cut, 'string');
      assert.ok(whole.startsWith(cut as string));
      assert.ok(JSON.stringify(cut).length <= LIMIT);
      assert.ok(JSON.stringify(cut).length > LIMIT - 6, 'as much as fits');
    }
  });

  void it('joins a session under a caller-chosen trace id instead of making it the root', async () => {
    const traceId = 'c0ffee'.padEnd(32, '1');
    const res = await postJson(
      `${gw.url}/v1/iterate`,
      { kind: 'fill', prompt: 'p', provider: 'stub', model: 'm', context: CONTRACT },
      { 'x-lakehouse-trace-id': traceId },
    );
    assert.equal(res.traceHeader, traceId);
    const root = only(await exported(traceId), 'iterate fill');
    assert.equal(root.parentSpanContext?.spanId, joinedParentSpanId(traceId));
    assert.equal(root.attributes[LF.AS_ROOT], undefined);
    assert.equal(root.attributes[LF.TRACE_NAME], undefined);
    assert.equal(root.attributes[LH.TRACE_ID_SOURCE], 'header');
  });

  void it('makes a direct /v1/validate call its own root, or a joiner under a chosen id', async () => {
    const body = { kind: 'fill', artifact: JSON.parse(GOOD), context: CONTRACT };
    const direct = await postJson(`${gw.url}/v1/validate`, body);
    assert.equal(direct.status, 200);
    const own = only(await exported(direct.traceHeader), 'validate fill');
    assert.equal(own.parentSpanContext, undefined);
    assert.equal(own.attributes[LF.AS_ROOT], true);
    assert.equal(own.attributes[LF.TRACE_NAME], 'validate:fill');
    assert.equal(own.attributes[LH.TRACE_ID_SOURCE], 'minted');

    const traceId = 'bead'.padEnd(32, '2');
    await postJson(`${gw.url}/v1/validate`, body, { 'x-lakehouse-trace-id': traceId });
    const joined = only(await exported(traceId), 'validate fill');
    assert.equal(joined.parentSpanContext?.spanId, joinedParentSpanId(traceId));
    assert.equal(joined.attributes[LF.AS_ROOT], undefined);
    assert.equal(joined.attributes[LF.TRACE_NAME], undefined);
  });
});
