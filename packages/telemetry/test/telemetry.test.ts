import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { context, defaultTextMapSetter, metrics, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  currentSpanId,
  currentTraceId,
  getTelemetry,
  metricsHandler,
  startTelemetry,
  TRACE_ID_HEADER,
} from '../src/index.js';
import type { Telemetry } from '../src/index.js';

// In-process SDK start; OTLP is left unconfigured so nothing leaves the process.
describe('startTelemetry (enabled)', () => {
  const exporter = new InMemorySpanExporter();
  let telemetry: Telemetry;

  before(() => {
    for (const k of Object.keys(process.env)) if (k.startsWith('OTEL_')) delete process.env[k];
    process.env['OTEL_SERVICE_NAME'] = 'override-name';
    telemetry = startTelemetry({
      serviceName: 'test-service',
      spanProcessors: [new SimpleSpanProcessor(exporter)],
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
    trace.getTracer('t').startActiveSpan('unit', (span) => {
      assert.equal(currentTraceId(), span.spanContext().traceId);
      assert.equal(currentSpanId(), span.spanContext().spanId);
      span.end();
    });
    // Resource detection may still be pending; the processor exports once it settles.
    await telemetry.forceFlush();
    const [finished] = exporter.getFinishedSpans();
    assert.equal(finished?.name, 'unit');
    assert.equal(finished?.resource.attributes['service.name'], 'override-name');
    assert.equal(finished?.resource.attributes['telemetry.sdk.language'], 'nodejs');
    assert.equal(currentTraceId(), undefined);
    assert.equal(currentSpanId(), undefined);
  });

  it('installs the composite propagator globally: inject writes both headers with one id', () => {
    trace.getTracer('t').startActiveSpan('outbound', (span) => {
      const carrier: Record<string, string> = {};
      propagation.inject(context.active(), carrier, defaultTextMapSetter);
      const traceId = span.spanContext().traceId;
      assert.equal(carrier[TRACE_ID_HEADER], traceId);
      assert.equal(carrier['traceparent'], `00-${traceId}-${span.spanContext().spanId}-01`);
      span.end();
    });
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
