import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, describe, it } from 'node:test';
import { propagation, trace } from '@opentelemetry/api';
import express from 'express';
import {
  getTelemetry,
  metricsHandler,
  requestTelemetry,
  requestTrace,
  startSpan,
  startTelemetry,
} from '../src/index.js';

const VALID = '0af7651916cd43dd8448eb211c80319c';

describe('OTEL_SDK_DISABLED=true', () => {
  before(() => {
    process.env['OTEL_SDK_DISABLED'] = 'true';
  });

  it('metricsHandler answers 200 with a comment before start', async () => {
    assert.equal(getTelemetry(), undefined);
    const server = createServer(metricsHandler());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
    assert.equal(await res.text(), '# metrics disabled (telemetry not started)\n');
    server.close();
  });

  it('startTelemetry is a no-op; shutdown and forceFlush resolve, repeatedly', async () => {
    const telemetry = startTelemetry({ serviceName: 'off' });
    assert.equal(telemetry.enabled, false);
    assert.equal(getTelemetry(), telemetry);
    assert.equal(startTelemetry({ serviceName: 'off' }), telemetry);
    // Nothing registered globally: no-op tracer, no propagator fields.
    assert.deepEqual(propagation.fields(), []);
    const span = trace.getTracer('t').startSpan('x');
    assert.equal(span.isRecording(), false);
    span.end();
    await telemetry.forceFlush();
    await telemetry.shutdown();
    await telemetry.shutdown();
  });

  it('metricsHandler answers 200 with a comment line', async () => {
    const server = createServer(metricsHandler());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), '# metrics disabled (OTEL_SDK_DISABLED=true)\n');
    } finally {
      server.close();
    }
  });

  it('requestTelemetry still gives every response an id (header, else fresh); spans do not record', async () => {
    const app = express();
    app.use(requestTelemetry({ routes: ['/'] }));
    app.get('/', (req, res) => {
      const t = requestTrace(req);
      const span = startSpan(trace.getTracer('t'), 'x', {}, t.context);
      span.end();
      res.json({ locals: t.traceId, recording: span.isRecording() });
    });
    app.get('/boom', () => {
      throw new Error('boom');
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const seeded = await fetch(base, {
        headers: { 'x-lakehouse-trace-id': VALID.toUpperCase() },
      });
      assert.equal(seeded.headers.get('x-lakehouse-trace-id'), VALID);
      assert.deepEqual(await seeded.json(), { locals: VALID, recording: false });

      const bad = await fetch(base, { headers: { 'x-lakehouse-trace-id': '0'.repeat(32) } });
      const badId = bad.headers.get('x-lakehouse-trace-id') ?? '';
      assert.match(badId, /^[0-9a-f]{32}$/);
      assert.notEqual(badId, '0'.repeat(32));
      assert.deepEqual(await bad.json(), { locals: badId, recording: false });

      const none = await fetch(base);
      assert.match(none.headers.get('x-lakehouse-trace-id') ?? '', /^[0-9a-f]{32}$/);

      const error = await fetch(`${base}/boom`);
      assert.equal(error.status, 500);
      assert.match(error.headers.get('x-lakehouse-trace-id') ?? '', /^[0-9a-f]{32}$/);
    } finally {
      server.close();
    }
  });
});
