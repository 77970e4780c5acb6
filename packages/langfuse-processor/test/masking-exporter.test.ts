import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanStatusCode } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { startOtlpReceiver } from '@lakehouse/test-support';
import {
  LAKEHOUSE_ATTRIBUTES as LH,
  LangfuseTranslatingSpanProcessor,
  MaskingSpanExporter,
} from '../src/index.js';
import './harness.js'; // registers the context manager

const SECRET = 'sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123';

function emitSpan(exporter: MaskingSpanExporter): void {
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('test');
  tracer.startActiveSpan('parent', (parent) => {
    const span = tracer.startSpan('chat m', {
      attributes: {
        'gen_ai.input.messages': JSON.stringify([{ role: 'user', content: `use ${SECRET}` }]),
        'gen_ai.request.model': 'm',
        'http.url': `https://x/?api_key=${SECRET}`,
      },
    });
    span.addEvent('retry', { reason: `Bearer ${SECRET}` });
    span.setStatus({ code: SpanStatusCode.ERROR, message: `upstream said ${SECRET}` });
    span.end();
    parent.end();
  });
}

describe('MaskingSpanExporter (the raw OTLP path)', () => {
  it('masks secrets in attributes, events and the status message, keeping the parent link', () => {
    const inner = new InMemorySpanExporter();
    emitSpan(new MaskingSpanExporter(inner));
    const spans = inner.getFinishedSpans();
    const chat = spans.find((s) => s.name === 'chat m')!;
    const parent = spans.find((s) => s.name === 'parent')!;
    assert.ok(!JSON.stringify([chat.attributes, chat.events, chat.status]).includes(SECRET));
    assert.match(String(chat.attributes['gen_ai.input.messages']), /\[REDACTED\]/);
    assert.equal(chat.attributes['gen_ai.request.model'], 'm');
    assert.equal(chat.parentSpanContext?.spanId, parent.spanContext().spanId);
  });

  it('drops prompt/response attributes with content capture off', () => {
    const inner = new InMemorySpanExporter();
    emitSpan(new MaskingSpanExporter(inner, { contentCapture: false }));
    const chat = inner.getFinishedSpans().find((s) => s.name === 'chat m')!;
    assert.equal(chat.attributes['gen_ai.input.messages'], undefined);
    assert.equal(chat.attributes['gen_ai.request.model'], 'm');
  });
});

describe('LANGFUSE_OTLP_ENDPOINT', () => {
  it('sends translated spans to that URL without keys (the Collector holds them)', async () => {
    const receiver = await startOtlpReceiver();
    const url = `${receiver.url}/v1/traces`;
    const processor = new LangfuseTranslatingSpanProcessor({
      env: { LANGFUSE_OTLP_ENDPOINT: url },
    });
    try {
      assert.deepEqual(processor.destination, { kind: 'otlp', url });
      const provider = new BasicTracerProvider({ spanProcessors: [processor] });
      provider
        .getTracer('gateway')
        .startSpan('iterate fill', { attributes: { [LH.SESSION_ROOT]: true } })
        .end();
      await processor.forceFlush();
      assert.equal(receiver.requests.length, 1);
      const [request] = receiver.requests;
      assert.equal(request?.path, '/v1/traces');
      assert.equal(request?.headers.authorization, undefined);
      assert.equal(request?.headers['x-langfuse-ingestion-version'], '4');
      assert.deepEqual(
        receiver.spans.map((span) => span.name),
        ['iterate fill'],
      );
    } finally {
      await processor.shutdown();
      await receiver.close();
    }
  });
});
