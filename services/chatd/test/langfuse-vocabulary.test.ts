// chatd's generation as Langfuse receives it: the real SDK start-up (startTelemetry, its
// propagator and hop signer), the real route and provider call, and the real
// LangfuseTranslatingSpanProcessor with an in-memory exporter as the destination. A
// producer-side rename of a `lakehouse.*` attribute changes what arrives here.
// Own file: node --test runs each file in its own process, so the global SDK is this file's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  joinedParentSpanId,
  LAKEHOUSE_ATTRIBUTES as LH,
  LANGFUSE_ATTRIBUTES as LF,
  LangfuseTranslatingSpanProcessor,
} from '@lakehouse/langfuse-processor';
import { hopHeaders, HopSigner, isTrustedRemoteParent, startTelemetry } from '@lakehouse/telemetry';
import { postJson } from '@lakehouse/test-support';
import { startApp } from './helpers.js';
import type { RunningApp } from './helpers.js';

const exporter = new InMemorySpanExporter();
const processor = new LangfuseTranslatingSpanProcessor({
  exporter,
  contentCapture: true,
  isTrustedRemoteParent,
  mask: (value) => value,
  env: {},
});
const telemetry = startTelemetry({
  serviceName: 'chatd',
  spanProcessors: [processor],
  hopSigner: new HopSigner('h'.repeat(8) + 'k'.repeat(8), true),
});

// Every attribute a generation arrives with: a producer key the translator no longer reads
// would be copied through and show up here.
const GENERATION_KEYS = [
  LH.TRACE_ID_SOURCE,
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens',
  LF.OBSERVATION_TYPE,
  LF.OBSERVATION_LEVEL,
  LF.OBSERVATION_MODEL,
  LF.OBSERVATION_MODEL_PARAMETERS,
  LF.OBSERVATION_USAGE_DETAILS,
  LF.OBSERVATION_INPUT,
  LF.OBSERVATION_OUTPUT,
  LF.OBSERVATION_COMPLETION_START_TIME,
];
const ROOT_KEYS = [...GENERATION_KEYS, LF.TRACE_NAME, LF.AS_ROOT];

const MESSAGES = [{ role: 'user', content: 'Artifact kind: email\nContract: {}' }];

/** POSTs one chat and returns the answer and its one translated generation. */
async function generation(
  app: RunningApp,
  headers: Record<string, string> = {},
): Promise<{ content: unknown; span: ReadableSpan }> {
  const res = await postJson(
    `${app.url}/v1/chat`,
    { provider: 'sim', model: 'clean', messages: MESSAGES, temperature: 0.4, max_tokens: 99 },
    headers,
  );
  assert.equal(res.status, 200);
  await processor.forceFlush();
  const spans = exporter.getFinishedSpans().filter((s) => s.name === 'chat clean');
  exporter.reset();
  assert.equal(spans.length, 1);
  return { content: res.body['content'], span: spans[0] as ReadableSpan };
}

function keys(span: ReadableSpan): string[] {
  return Object.keys(span.attributes).sort();
}

void describe('chatd spans through the Langfuse processor', () => {
  let app: RunningApp;
  before(async () => {
    app = await startApp();
  });
  after(async () => {
    await app.close();
    await telemetry.shutdown();
  });

  void it('sends a direct call as its own trace: one generation with model, usage, messages and text', async () => {
    const { content, span } = await generation(app);
    assert.equal(span.parentSpanContext, undefined);
    assert.deepEqual(keys(span), [...ROOT_KEYS].sort());
    const a = span.attributes;
    assert.equal(a[LF.AS_ROOT], true);
    assert.equal(a[LF.TRACE_NAME], 'chat:clean');
    assert.equal(a[LF.OBSERVATION_TYPE], 'generation');
    assert.equal(a[LF.OBSERVATION_LEVEL], 'DEFAULT');
    assert.equal(a[LF.OBSERVATION_MODEL], 'clean');
    assert.deepEqual(JSON.parse(String(a[LF.OBSERVATION_MODEL_PARAMETERS])), {
      temperature: 0.4,
      max_tokens: 99,
    });
    const usage = JSON.parse(String(a[LF.OBSERVATION_USAGE_DETAILS])) as Record<string, number>;
    assert.equal(usage['total'], (usage['input'] ?? 0) + (usage['output'] ?? 0));
    assert.ok((usage['output'] ?? 0) > 0);
    assert.equal(a[LF.OBSERVATION_INPUT], JSON.stringify(MESSAGES));
    assert.equal(typeof content, 'string');
    assert.equal(a[LF.OBSERVATION_OUTPUT], content);
    assert.ok(!Number.isNaN(Date.parse(String(a[LF.OBSERVATION_COMPLETION_START_TIME]))));
  });

  void it('joins a caller-chosen trace id instead of making the generation a root', async () => {
    const traceId = 'feed'.padEnd(32, '3');
    const { span } = await generation(app, { 'x-lakehouse-trace-id': traceId });
    assert.equal(span.spanContext().traceId, traceId);
    assert.equal(span.parentSpanContext?.spanId, joinedParentSpanId(traceId));
    assert.equal(span.attributes[LF.AS_ROOT], undefined);
    assert.equal(span.attributes[LF.TRACE_NAME], undefined);
    assert.deepEqual(keys(span), [...GENERATION_KEYS].sort());
  });

  void it('nests the generation under the attempt span a signed hop names', async () => {
    const attempt = {
      traceId: 'ab'.repeat(16),
      spanId: 'cd'.repeat(8),
      traceFlags: TraceFlags.SAMPLED,
    };
    const headers = hopHeaders(trace.setSpanContext(ROOT_CONTEXT, attempt));
    assert.ok(headers['x-lakehouse-hop'] !== undefined, 'the hop is signed');
    const { span } = await generation(app, headers);
    assert.equal(span.parentSpanContext?.spanId, attempt.spanId);
    assert.equal(span.attributes[LF.AS_ROOT], undefined);
    assert.equal(span.attributes[LH.TRACE_ID_SOURCE], 'traceparent');
    assert.deepEqual(keys(span), [...GENERATION_KEYS].sort());
  });
});
