import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, startOtlpReceiver } from '@lakehouse/test-support';
import type { OtlpReceiver } from '@lakehouse/test-support';
import { httpGet, rawRequest, rejectedCounts, startFixtureApp } from './helpers.js';
import type { FixtureApp, SimpleResponse } from './helpers.js';
import { DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT } from '../src/index.js';

const HEX32 = /^[0-9a-f]{32}$/;
const VALID = '0af7651916cd43dd8448eb211c80319c';
const OTHER = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${OTHER}-00f067aa0ba902b7-01`;

// One child process serves every case: `node --import instrument.mjs app.mjs`, ESM throughout.
describe('ESM express app started with --import (real http server, OTLP/HTTP JSON receiver)', () => {
  let receiver: OtlpReceiver;
  let app: FixtureApp;

  before(async () => {
    receiver = await startOtlpReceiver();
    app = await startFixtureApp({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_BLRP_SCHEDULE_DELAY: '50',
      OTEL_METRIC_EXPORT_INTERVAL: '60000',
    });
  });

  after(async () => {
    await app?.stop();
    await receiver?.close();
  });

  function idOf(res: SimpleResponse): string {
    assert.equal(res.status, 200);
    const header = res.headers['x-lakehouse-trace-id'];
    assert.equal(typeof header, 'string');
    const body = JSON.parse(res.body) as { trace_id: string };
    assert.equal(body.trace_id, header, 'response header and active span agree');
    assert.match(body.trace_id, HEX32);
    return body.trace_id;
  }

  it('without inbound headers starts a fresh trace id', async () => {
    const a = idOf(await httpGet(`${app.url}/id`));
    const b = idOf(await httpGet(`${app.url}/id`));
    assert.notEqual(a, b);
    assert.notEqual(a, '0'.repeat(32));
  });

  it('seeds the trace id from a valid x-lakehouse-trace-id (lower, upper, UUID)', async () => {
    assert.equal(idOf(await httpGet(`${app.url}/id`, { 'x-lakehouse-trace-id': VALID })), VALID);
    assert.equal(
      idOf(await httpGet(`${app.url}/id`, { 'X-Lakehouse-Trace-Id': VALID.toUpperCase() })),
      VALID,
    );
    const uuid = '0AF76519-16CD-43DD-8448-EB211C80319C';
    const res = await httpGet(`${app.url}/id`, { 'x-lakehouse-trace-id': uuid });
    assert.equal(idOf(res), VALID);
    assert.equal(
      (JSON.parse(res.body) as { seeded: boolean }).seeded,
      true,
      'handlers can tell the id was seeded',
    );
  });

  it('uses a valid traceparent, which wins over a different x-lakehouse-trace-id', async () => {
    const viaTraceparent = await httpGet(`${app.url}/id`, { traceparent: TRACEPARENT });
    assert.equal(idOf(viaTraceparent), OTHER);
    assert.equal((JSON.parse(viaTraceparent.body) as { seeded: boolean }).seeded, false);
    assert.equal(
      idOf(
        await httpGet(`${app.url}/id`, { traceparent: TRACEPARENT, 'x-lakehouse-trace-id': VALID }),
      ),
      OTHER,
    );
  });

  it('ignores, counts and never reflects invalid x-lakehouse-trace-id values', async () => {
    const cases: [string, string][] = [
      ['0'.repeat(32), 'all_zeros'],
      ['a'.repeat(31), 'wrong_length'],
      ['b'.repeat(33), 'wrong_length'],
      ['zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz', 'non_hex'],
      ['c'.repeat(10 * 1024), 'too_long'],
    ];
    const before = rejectedCounts((await httpGet(`${app.url}/metrics`)).body);
    for (const [value] of cases) {
      const res = await httpGet(`${app.url}/id`, { 'x-lakehouse-trace-id': value });
      const id = idOf(res);
      assert.notEqual(id, value.toLowerCase());
      assert.ok(!res.body.includes(value.slice(0, 31)), 'value not echoed in the body');
      assert.ok(
        !JSON.stringify(res.headers).includes(value.slice(0, 31)),
        'value not echoed in headers',
      );
    }
    const metrics = (await httpGet(`${app.url}/metrics`)).body;
    const afterCounts = rejectedCounts(metrics);
    for (const reason of ['all_zeros', 'non_hex', 'too_long']) {
      const key = `x-lakehouse-trace-id/${reason}`;
      assert.equal((afterCounts.get(key) ?? 0) - (before.get(key) ?? 0), 1, key);
    }
    const wrong = 'x-lakehouse-trace-id/wrong_length';
    assert.equal((afterCounts.get(wrong) ?? 0) - (before.get(wrong) ?? 0), 2);
    assert.ok(!metrics.includes('cccccccc'), 'metrics never carry the raw value');
  });

  it('a CRLF injection attempt gets a fresh id and nothing injected comes back', async () => {
    const raw = await rawRequest(
      app.port,
      'GET /id HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
        'X-Lakehouse-Trace-Id: deadbeef\r\nSet-Cookie: injected=1\r\n' +
        'Connection: close\r\n\r\n',
    );
    assert.match(raw, /^HTTP\/1\.1 200/);
    assert.ok(!raw.includes('deadbeef'));
    assert.ok(!raw.toLowerCase().includes('injected'));
    const id = /x-lakehouse-trace-id: ([0-9a-f]+)\r\n/i.exec(raw)?.[1];
    assert.match(id ?? '', HEX32);
    // A bare CR inside the value never reaches the app: Node's parser refuses the request.
    const bare = await rawRequest(
      app.port,
      `GET /id HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Lakehouse-Trace-Id: ${VALID}\rSet-Cookie: injected=1\r\nConnection: close\r\n\r\n`,
    );
    assert.match(bare, /^HTTP\/1\.1 400/);
    assert.ok(!bare.toLowerCase().includes('injected'));
  });

  it('counts a traceparent that is present but invalid, and starts a fresh trace', async () => {
    const before =
      rejectedCounts((await httpGet(`${app.url}/metrics`)).body).get('traceparent/invalid') ?? 0;
    const id = idOf(await httpGet(`${app.url}/id`, { traceparent: '00-zzzz-00f067aa0ba902b7-01' }));
    assert.notEqual(id, OTHER);
    const afterCount =
      rejectedCounts((await httpGet(`${app.url}/metrics`)).body).get('traceparent/invalid') ?? 0;
    assert.equal(afterCount - before, 1);
  });

  it('patches http (axios) and express under ESM: one trace across the loopback hop, exported over OTLP', async () => {
    const res = await httpGet(`${app.url}/hop/alice`);
    const traceId = idOf(res);
    const body = JSON.parse(res.body) as {
      downstream: { trace_id: string; traceparent: string; mirror: string };
    };
    // Outbound: the composite propagator injected both headers carrying the same id.
    assert.equal(body.downstream.trace_id, traceId);
    assert.equal(body.downstream.mirror, traceId);
    assert.match(body.downstream.traceparent, new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));

    await httpGet(`${app.url}/id`); // any request; then flush through the app
    const spans = await eventually(() => {
      const s = receiver.spans.filter((x) => x.traceId === traceId);
      return s.length >= 3 ? s : undefined;
    });
    const hopServer = spans.find(
      (s) => s.kind === 2 && s.attributes['http.route'] === '/hop/:name',
    );
    const client = spans.find((s) => s.kind === 3);
    const echoServer = spans.find((s) => s.kind === 2 && s.attributes['http.route'] === '/echo');
    assert.ok(hopServer, 'server span named by the express route (express patched)');
    assert.equal(hopServer.name, 'GET /hop/:name');
    assert.ok(client, 'client span from axios (http patched)');
    assert.equal(client.parentSpanId, hopServer.spanId);
    assert.ok(echoServer);
    assert.equal(echoServer.parentSpanId, client.spanId);
    assert.equal(hopServer.resource['service.name'], 'fixture-app');
    assert.equal(hopServer.resource['service.version'], '0.0.1');
    // No span per middleware/handler.
    assert.ok(
      !spans.some((s) => s.name.startsWith('middleware') || s.name.startsWith('request handler')),
    );
  });

  it('caps span attribute values at the default length limit', async () => {
    const traceId = idOf(await httpGet(`${app.url}/big`));
    const big = await eventually(() =>
      receiver.spans.find((s) => s.traceId === traceId && s.name === 'big'),
    );
    assert.equal(String(big.attributes['big.value']).length, DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT);
  });

  it('logs carry trace_id on stdout and flow to OTLP logs once', async () => {
    const res = await httpGet(`${app.url}/echo`, { 'x-lakehouse-trace-id': OTHER });
    assert.equal(idOf(res), OTHER);
    const line = await eventually(() =>
      app.stdoutLines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l['message'] === 'echo' && l['trace_id'] === OTHER),
    );
    assert.equal(line['service'], 'fixture-app');
    assert.match(String(line['span_id']), /^[0-9a-f]{16}$/);
    assert.equal(line['seeded'], true);
    const records = await eventually(() => {
      const r = receiver.logs.filter((l) => l.body === 'echo' && l.traceId === OTHER);
      return r.length > 0 ? r : undefined;
    });
    assert.equal(records.length, 1, 'no double emission');
    assert.equal(records[0]?.scope, '@opentelemetry/winston-transport');
  });
});
