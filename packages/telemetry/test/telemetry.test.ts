import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { context, metrics, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  extractRequestTrace,
  getTelemetry,
  hopHeaders,
  HopSigner,
  HOP_SIGNATURE_HEADER,
  metricsHandler,
  startSpan,
  startTelemetry,
  TRACE_ID_HEADER,
  withSpan,
} from '../src/index.js';
import type { Telemetry } from '../src/index.js';

// In-process SDK start; OTLP is left unconfigured so nothing leaves the process.
describe('startTelemetry (enabled)', () => {
  const exporter = new InMemorySpanExporter();
  const signer = new HopSigner('unit-test-hop-key-0123456789', true);
  let telemetry: Telemetry;

  before(() => {
    for (const k of Object.keys(process.env)) if (k.startsWith('OTEL_')) delete process.env[k];
    process.env['OTEL_SERVICE_NAME'] = 'override-name';
    telemetry = startTelemetry({
      serviceName: 'test-service',
      spanProcessors: [new SimpleSpanProcessor(exporter)],
      hopSigner: signer,
    });
  });
  after(async () => {
    await telemetry.shutdown();
  });

  it('is enabled, idempotent and reachable through getTelemetry()', () => {
    assert.equal(telemetry.enabled, true);
    assert.deepEqual(telemetry.otlp, { traces: false, metrics: false, logs: false });
    assert.equal(startTelemetry({ serviceName: 'again' }), telemetry);
    assert.equal(getTelemetry(), telemetry);
    assert.equal(telemetry.serviceName, 'override-name');
  });

  it('hands spans to the given processors with OTEL_SERVICE_NAME in the resource', async () => {
    trace.getTracer('t').startSpan('unit').end();
    // Resource detection may still be pending; the processor exports once it settles.
    await telemetry.forceFlush();
    const [finished] = exporter.getFinishedSpans();
    assert.equal(finished?.name, 'unit');
    assert.equal(finished?.resource.attributes['service.name'], 'override-name');
    assert.equal(finished?.resource.attributes['telemetry.sdk.language'], 'nodejs');
  });

  it('registers no async context manager: nothing follows an await', async () => {
    const span = trace.getTracer('t').startSpan('sync');
    const inside = await context.with(trace.setSpan(ROOT_CONTEXT, span), async () => {
      assert.equal(trace.getActiveSpan(), span, 'synchronously active');
      await Promise.resolve();
      return trace.getActiveSpan();
    });
    span.end();
    assert.equal(inside, undefined, 'gone after the await');
  });

  it('a root span started under a request context takes the request trace id, unsampled callers included', () => {
    const seeded = extractRequestTrace({
      'x-lakehouse-trace-id': '0af7651916cd43dd8448eb211c80319c',
    });
    const root = startSpan(trace.getTracer('t'), 'root', {}, seeded.context);
    assert.equal(root.spanContext().traceId, '0af7651916cd43dd8448eb211c80319c');
    root.end();
    const other = trace.getTracer('t').startSpan('unseeded');
    assert.notEqual(
      other.spanContext().traceId,
      '0af7651916cd43dd8448eb211c80319c',
      'the seed is used once',
    );
    other.end();
    const unsampled = extractRequestTrace({
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00',
    });
    const child = startSpan(trace.getTracer('t'), 'child', {}, unsampled.context);
    assert.equal(child.isRecording(), true, 'clients do not steer sampling');
    child.end();
  });

  it('installs the composite propagator globally: a hop carries traceparent, the mirror and the signature', () => {
    const span = trace.getTracer('t').startSpan('outbound');
    const carrier = hopHeaders(withSpan(ROOT_CONTEXT, span));
    const { traceId, spanId } = span.spanContext();
    assert.equal(carrier[TRACE_ID_HEADER], traceId);
    assert.equal(carrier['traceparent'], `00-${traceId}-${spanId}-01`);
    assert.equal(carrier[HOP_SIGNATURE_HEADER], signer.sign(traceId, spanId));
    assert.deepEqual(
      Object.keys(carrier).sort(),
      ['traceparent', HOP_SIGNATURE_HEADER, TRACE_ID_HEADER].sort(),
    );
    assert.ok(propagation.fields().includes(HOP_SIGNATURE_HEADER));
    span.end();
  });

  it('metricsHandler serves Prometheus text with a test counter', async () => {
    metrics
      .getMeter('test')
      .createCounter('test.widgets', { description: 'widgets made' })
      .add(7, { color: 'red' });
    const server = createServer(metricsHandler());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.match(text, /^# TYPE test_widgets_total counter$/m);
      assert.match(text, /^test_widgets_total\{color="red",otel_scope_name="test"\} 7$/m);
      assert.match(text, /service_name="override-name"/);
    } finally {
      server.close();
    }
  });

  it('forceFlush resolves; shutdown is idempotent and bounded', async () => {
    await telemetry.forceFlush();
    const first = telemetry.shutdown();
    assert.equal(telemetry.shutdown(), first);
    // Bounded by its own timeout; the deadline here is only there to fail instead of hanging.
    let deadline: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      first.then(() => 'done'),
      new Promise<string>((resolve) => {
        deadline = setTimeout(() => resolve('still running after 30 s'), 30_000);
      }),
    ]);
    clearTimeout(deadline);
    assert.equal(outcome, 'done');
    await telemetry.shutdown();
  });
});
