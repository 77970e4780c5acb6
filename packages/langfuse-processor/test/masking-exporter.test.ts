import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { SpanStatusCode } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { LangfuseTranslatingSpanProcessor, MaskingSpanExporter } from '../src/index.js';
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
    const seen: Array<{ url?: string; auth?: string; version?: string }> = [];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen.push({
          url: req.url,
          auth: req.headers.authorization,
          version: req.headers['x-langfuse-ingestion-version'] as string,
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
    const processor = new LangfuseTranslatingSpanProcessor({
      env: { LANGFUSE_OTLP_ENDPOINT: url },
    });
    try {
      assert.deepEqual(processor.destination, { kind: 'otlp', url });
      const provider = new BasicTracerProvider({ spanProcessors: [processor] });
      provider
        .getTracer('gateway')
        .startSpan('iterate fill', { attributes: { 'lakehouse.session.root': true } })
        .end();
      await processor.forceFlush();
      assert.equal(seen.length, 1);
      assert.equal(seen[0]?.url, '/v1/traces');
      assert.equal(seen[0]?.auth, undefined);
      assert.equal(seen[0]?.version, '4');
    } finally {
      await processor.shutdown();
      server.close();
    }
  });
});
