import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, startOtlpReceiver } from '@lakehouse/test-support';
import type { OtlpReceiver } from '@lakehouse/test-support';
import { httpGet, rawRequest, rejectedCounts, startFixtureApp } from './helpers.js';
import type { FixtureApp, SimpleResponse } from './helpers.js';
import { DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT, HopSigner } from '../src/index.js';

const HEX32 = /^[0-9a-f]{32}$/;
const VALID = '0af7651916cd43dd8448eb211c80319c';
const OTHER = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${OTHER}-${CALLER_SPAN}-01`;
const HOP_KEY = 'fixture-hop-key-0123456789abcdef';

interface Described {
  trace_id: string;
  span_id: string;
  recording: boolean;
  header_trace_id: string;
  source: string;
  trusted: boolean;
}

// One child process serves every case: `node --import instrument.mjs app.mjs`, ESM throughout,
// no instrumentation: the app mounts requestTelemetry() and passes each request's Context.
describe('requestTelemetry + explicit context in an ESM express app (real server, OTLP/HTTP JSON receiver)', () => {
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
      LAKEHOUSE_HOP_KEY: HOP_KEY,
    });
  });

  after(async () => {
    await app?.stop();
    await receiver?.close();
  });

  function described(res: SimpleResponse): Described {
    assert.equal(res.status, 200, res.body);
    return JSON.parse(res.body) as Described;
  }

  function idOf(res: SimpleResponse): string {
    const header = res.headers['x-lakehouse-trace-id'];
    assert.equal(typeof header, 'string');
    const body = described(res);
    assert.equal(body.trace_id, header, "response header and the request's span agree");
    assert.equal(body.header_trace_id, header);
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
      described(res).source,
      'header',
      'handlers can tell the id was chosen by the caller',
    );
  });

  it('a seeded or fresh id is the trace id of a ROOT span (no synthetic parent)', async () => {
    const seeded = idOf(await httpGet(`${app.url}/id`, { 'x-lakehouse-trace-id': VALID }));
    const fresh = idOf(await httpGet(`${app.url}/id`));
    await httpGet(`${app.url}/flush`);
    for (const traceId of [seeded, fresh]) {
      const span = await eventually(() =>
        receiver.spans.find((s) => s.traceId === traceId && s.name === 'id'),
      );
      assert.equal(span.parentSpanId, undefined, `${traceId}: exported without a parent`);
    }
  });

  it('uses a valid traceparent, which wins over a different x-lakehouse-trace-id', async () => {
    const viaTraceparent = await httpGet(`${app.url}/id`, { traceparent: TRACEPARENT });
    assert.equal(idOf(viaTraceparent), OTHER);
    assert.equal(described(viaTraceparent).source, 'traceparent');
    assert.equal(described(viaTraceparent).trusted, false, 'a client is never a trusted parent');
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

  it('a traceparent ending in -00 does not turn tracing off: the span records and is exported', async () => {
    const res = await httpGet(`${app.url}/id`, { traceparent: `00-${OTHER}-${CALLER_SPAN}-00` });
    const body = described(res);
    assert.equal(body.recording, true);
    await httpGet(`${app.url}/flush`);
    const span = await eventually(() =>
      receiver.spans.find((s) => s.spanId === body.span_id),
    );
    assert.equal(span.parentSpanId, CALLER_SPAN, 'the W3C parent is still the caller');
  });

  it('a hop carries traceparent, the mirror and a valid signature; the callee trusts it; nothing the client sent is forwarded', async () => {
    const res = await httpGet(`${app.url}/hop`, {
      traceparent: `00-${OTHER}-${CALLER_SPAN}-01`,
      tracestate: 'vendor=client-state',
      baggage: `user.role=admin,langfuse.observation.parent_id=${CALLER_SPAN},${'k=v,'.repeat(179)}k=v`,
    });
    const hop = described(res);
    assert.equal(hop.trace_id, OTHER);
    const downstream = (
      JSON.parse(res.body) as { downstream: Described & Record<string, string | null> }
    ).downstream;
    assert.equal(downstream.trace_id, OTHER);
    assert.equal(downstream['mirror'], OTHER);
    assert.equal(downstream['traceparent'], `00-${OTHER}-${hop.span_id}-01`);
    assert.equal(downstream['hop'], new HopSigner(HOP_KEY, true).sign(OTHER, hop.span_id));
    assert.equal(downstream.trusted, true, "the callee verified our own hop's signature");
    assert.equal(downstream['baggage'], null, 'client baggage is not forwarded');
    assert.equal(downstream['tracestate'], null, 'client tracestate is not forwarded');

    await httpGet(`${app.url}/flush`);
    const spans = await eventually(() => {
      const s = receiver.spans.filter((x) => x.traceId === OTHER);
      return s.some((x) => x.name === 'echo') && s.some((x) => x.name === 'hop') ? s : undefined;
    });
    const echo = spans.find((s) => s.spanId === downstream.span_id);
    assert.equal(
      echo?.parentSpanId,
      hop.span_id,
      "the callee's span has the hop's span as its real W3C parent",
    );
    assert.equal(spans.find((s) => s.name === 'hop')?.parentSpanId, CALLER_SPAN);
    assert.equal(spans.find((s) => s.name === 'hop')?.resource['service.name'], 'fixture-app');
    assert.ok(
      !spans.some((s) => s.kind === 2 || s.kind === 3),
      'no http server or client spans at all',
    );
  });

  it('a forged, replayed or malformed hop signature is not trusted', async () => {
    const forged = [
      new HopSigner('some-other-key-0123456789', true).sign(OTHER, CALLER_SPAN),
      new HopSigner(HOP_KEY, true).sign(OTHER, 'aaaaaaaaaaaaaaaa'),
      new HopSigner(HOP_KEY, true).sign(VALID, CALLER_SPAN),
      'v1=',
      'v1=' + 'A'.repeat(22),
      'x'.repeat(5000),
    ];
    for (const signature of forged) {
      const res = await httpGet(`${app.url}/id`, {
        traceparent: TRACEPARENT,
        'x-lakehouse-hop': signature,
      });
      assert.equal(described(res).trusted, false, signature.slice(0, 40));
    }
    const genuine = await httpGet(`${app.url}/id`, {
      traceparent: TRACEPARENT,
      'x-lakehouse-hop': new HopSigner(HOP_KEY, true).sign(OTHER, CALLER_SPAN),
    });
    assert.equal(described(genuine).trusted, true);
  });

  it('records http.server.request.duration by method, route and status; probes and unknown paths stay bounded', async () => {
    await httpGet(`${app.url}/id`);
    await httpGet(`${app.url}/no/such/${'x'.repeat(50)}`);
    const text = (await httpGet(`${app.url}/metrics`)).body;
    assert.match(
      text,
      /^http_server_request_duration_count\{[^}]*http_request_method="GET"[^}]*http_response_status_code="200"[^}]*url_scheme="http"[^}]*http_route="\/id"[^}]*\} \d+$/m,
    );
    assert.ok(!text.includes('xxxxxxxxxx'), 'an unknown path never becomes a label');
    assert.ok(!/http_route="\/metrics"/.test(text), '/metrics is not recorded');
  });

  it('caps span attribute values at the default length limit', async () => {
    const traceId = idOf(await httpGet(`${app.url}/big`));
    const big = await eventually(() =>
      receiver.spans.find((s) => s.traceId === traceId && s.name === 'big'),
    );
    assert.equal(String(big.attributes['big.value']).length, DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT);
  });

  it('request logs carry trace_id and span_id on stdout and flow to OTLP logs once', async () => {
    const id = 'feedc0de'.repeat(4);
    const res = await httpGet(`${app.url}/echo`, { 'x-lakehouse-trace-id': id });
    assert.equal(idOf(res), id);
    const line = await eventually(() =>
      app.stdoutLines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l['message'] === 'echo' && l['trace_id'] === id),
    );
    assert.equal(line['service'], 'fixture-app');
    assert.equal(line['span_id'], described(res).span_id);
    assert.equal(line['source'], 'header');
    const records = await eventually(() => {
      const r = receiver.logs.filter((l) => l.body === 'echo' && l.traceId === id);
      return r.length > 0 ? r : undefined;
    });
    assert.equal(records.length, 1, 'no double emission');
    assert.equal(records[0]?.scope, '@opentelemetry/winston-transport');
  });
});
