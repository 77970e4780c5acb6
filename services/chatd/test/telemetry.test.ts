import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { metrics, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import type { HistogramMetricData } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  LAKEHOUSE_ATTRIBUTES as LH,
  LANGFUSE_ATTRIBUTES as LF,
  translateSpan,
} from '@lakehouse/langfuse-processor';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { RunningApp } from './helpers.js';
import { postJson, sendJson, startStubServer } from '@lakehouse/test-support';
import { chat, startApp, testConfig } from './helpers.js';

// Providers must be global before createApp() creates its instruments.
const spans = new InMemorySpanExporter();
trace.setGlobalTracerProvider(
  new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
);
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({
  exporter: metricExporter,
  exportIntervalMillis: 60_000,
});
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));

async function histograms(): Promise<Map<string, HistogramMetricData>> {
  const { resourceMetrics } = await reader.collect();
  const out = new Map<string, HistogramMetricData>();
  for (const sm of resourceMetrics.scopeMetrics) {
    if (sm.scope.name !== 'chatd') continue;
    for (const m of sm.metrics) out.set(m.descriptor.name, m as HistogramMetricData);
  }
  return out;
}

// The Langfuse view of a span exactly as chatd made it (placed as a child, capture on, no mask).
function langfuseView(span: ReadableSpan): Record<string, unknown> {
  return translateSpan(
    span,
    { parent: undefined, root: false },
    { mask: (value) => value, contentCapture: true },
  ).attributes;
}

void describe('chatd GenAI telemetry', () => {
  let app: RunningApp;
  let stub: Awaited<ReturnType<typeof startStubServer>>;

  before(async () => {
    stub = await startStubServer((_req, res) => sendJson(res, 500, { error: { message: 'boom' } }));
    app = await startApp({
      config: testConfig({
        PROVIDERS: JSON.stringify([
          { name: 'bad', type: 'openai', base_url: `${stub.url}/v1`, max_retries: 0 },
        ]),
      }),
    });
  });
  after(async () => {
    await app.close();
    await stub.close();
  });
  beforeEach(() => spans.reset());

  void it('wraps each provider call in a "chat {model}" CLIENT span with GenAI attributes', async () => {
    const messages = [{ role: 'user', content: 'Artifact kind: email\nContract: {}' }];
    const res = await postJson(`${app.url}/v1/chat`, {
      provider: 'sim',
      model: 'clean',
      messages,
      temperature: 0.2,
      max_tokens: 100,
    });
    assert.equal(res.status, 200);
    const [span] = spans.getFinishedSpans().filter((s) => s.name === 'chat clean');
    assert.ok(span !== undefined, 'no chat span');
    assert.equal(span.kind, SpanKind.CLIENT);
    assert.equal(span.instrumentationScope.name, 'chatd');
    const a = span.attributes;
    const usage = res.body['usage'] as { input_tokens: number; output_tokens: number };
    assert.equal(a['gen_ai.operation.name'], 'chat');
    assert.equal(a['gen_ai.provider.name'], 'sim');
    assert.equal(a[LH.PROVIDER], 'sim');
    assert.equal(a['gen_ai.request.model'], 'clean');
    assert.equal(a['gen_ai.request.temperature'], 0.2);
    assert.equal(a['gen_ai.request.max_tokens'], 100);
    assert.equal(a['gen_ai.response.model'], 'clean');
    assert.deepEqual(a['gen_ai.response.finish_reasons'], ['stop']);
    assert.equal(a['gen_ai.usage.input_tokens'], usage.input_tokens);
    assert.equal(a['gen_ai.usage.output_tokens'], usage.output_tokens);
    assert.equal(a['gen_ai.input.messages'], JSON.stringify(messages));
    assert.equal(
      a['gen_ai.output.messages'],
      JSON.stringify([{ role: 'assistant', content: res.body['content'] }]),
    );
    assert.match(String(a[LH.COMPLETION_START_TIME]), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    // What Langfuse receives of it: langfuse-vocabulary.test (through the real processor).
  });

  void it('marks failed calls ERROR with error.type', async () => {
    const res = await chat(app.url, 'bad', 'm1');
    assert.equal(res.status, 502);
    const [span] = spans.getFinishedSpans().filter((s) => s.name === 'chat m1');
    assert.ok(span !== undefined);
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes['error.type'], '500');
    assert.equal(span.attributes['gen_ai.provider.name'], 'openai');
    assert.equal(span.attributes[LH.PROVIDER], 'bad');
    assert.equal(langfuseView(span)[LF.OBSERVATION_LEVEL], 'ERROR');
  });

  void it('leaves prompts and answers off the span when CONTENT_CAPTURE=false', async () => {
    const quiet = await startApp({ config: testConfig({ CONTENT_CAPTURE: 'false' }) });
    try {
      const res = await chat(quiet.url, 'sim', 'quiet', 'private words');
      assert.equal(res.status, 200);
      const [span] = spans.getFinishedSpans().filter((s) => s.name === 'chat quiet');
      assert.ok(span !== undefined);
      assert.equal(span.attributes['gen_ai.input.messages'], undefined);
      assert.equal(span.attributes['gen_ai.output.messages'], undefined);
      assert.equal(typeof span.attributes['gen_ai.usage.input_tokens'], 'number');
    } finally {
      await quiet.close();
    }
  });

  void it('records gen_ai.client.token.usage and gen_ai.client.operation.duration histograms', async () => {
    await chat(app.url, 'sim', 'metrics-model', 'hello there');
    const h = await histograms();
    const usage = h.get('gen_ai.client.token.usage');
    const duration = h.get('gen_ai.client.operation.duration');
    assert.ok(usage !== undefined && duration !== undefined);
    assert.equal(usage.descriptor.unit, '{token}');
    assert.equal(duration.descriptor.unit, 's');
    const points = usage.dataPoints.filter(
      (p) => p.attributes['gen_ai.request.model'] === 'metrics-model',
    );
    assert.deepEqual(points.map((p) => p.attributes['gen_ai.token.type']).sort(), [
      'input',
      'output',
    ]);
    const input = points.find((p) => p.attributes['gen_ai.token.type'] === 'input');
    assert.equal(input?.attributes['gen_ai.operation.name'], 'chat');
    assert.equal(input?.attributes['gen_ai.provider.name'], 'sim');
    assert.equal(input?.value.sum, Math.ceil('hello there'.length / 4));
    assert.deepEqual(input?.value.buckets.boundaries.slice(0, 3), [1, 4, 16]);
    assert.deepEqual(
      duration.dataPoints[0]?.value.buckets.boundaries.slice(0, 3),
      [0.01, 0.02, 0.04],
    );
    const failed = duration.dataPoints.find((p) => p.attributes['error.type'] === '500');
    assert.ok(failed !== undefined, 'failed call recorded with error.type');
    assert.equal(failed.attributes['gen_ai.request.model'], 'm1');
  });
});
