import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sampleContract, WorkerLookup } from '@lakehouse/roster';
import {
  eventually,
  postJson,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from '@lakehouse/test-support';
import { fillRequest, sharedRoster, startService, startStack } from './harness.js';
import type { ServiceHandle, Stack } from './harness.js';
import { startRecordedHops } from './chatd-stand-ins.js';

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;
const TRACE_HEADER = 'x-lakehouse-trace-id';

function otlpEnv(receiver: OtlpReceiver): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '50',
    OTEL_METRIC_EXPORT_INTERVAL: '60000',
    OTEL_LOGS_EXPORTER: 'none',
    LOG_LEVEL: 'info',
  };
}

function ancestors(span: ReceivedSpan, byId: Map<string, ReceivedSpan>): ReceivedSpan[] {
  const chain: ReceivedSpan[] = [];
  let current = span.parentSpanId ? byId.get(span.parentSpanId) : undefined;
  while (current) {
    chain.push(current);
    current = current.parentSpanId ? byId.get(current.parentSpanId) : undefined;
  }
  return chain;
}

describe('one trace across gateway and chatd', () => {
  let receiver: OtlpReceiver;
  let stack: Stack;
  before(async () => {
    receiver = await startOtlpReceiver();
    stack = await startStack({ env: otlpEnv(receiver) });
  });
  after(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  it('puts every span of a retried session in one trace with the expected nesting', async () => {
    const res = await postJson(
      `${stack.gateway.url}/v1/iterate`,
      await fillRequest('phantom-once'),
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const traceId = String(res.body.trace_id);
    const spans = await eventually(
      () => {
        const mine = receiver.spans.filter((s) => s.traceId === traceId);
        return mine.filter((s) => s.name.startsWith('chat ')).length === 2 &&
          mine.some((s) => s.name.startsWith('iterate '))
          ? mine
          : undefined;
      },
      15_000,
      'spans of both services',
    );
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    assert.deepEqual(new Set(spans.map((s) => s.service)), new Set(['gateway', 'chatd']));

    const iterate = spans.find((s) => s.name === 'iterate fill');
    assert.ok(iterate, 'the iterate span');
    const attempts = spans.filter((s) => /^attempt \d$/.test(s.name));
    assert.equal(attempts.length, 2);
    for (const attempt of attempts)
      assert.equal(attempt.parentSpanId, iterate.spanId, `${attempt.name} is a child of iterate`);

    // No http instrumentation: the hop's W3C parent is the attempt span itself, so each callee's
    // span is the attempt's direct child, across the process boundary too.
    assert.deepEqual(
      spans.filter(
        (s) =>
          s.kind === SPAN_KIND_SERVER ||
          (s.kind === SPAN_KIND_CLIENT && !s.name.startsWith('chat ')),
      ),
      [],
      'no http server or client spans',
    );
    for (const name of ['chat phantom-once', 'validate fill']) {
      const hops = spans.filter((s) => s.name === name);
      assert.equal(hops.length, 2, name);
      for (const hop of hops) {
        const parent = byId.get(hop.parentSpanId ?? '');
        assert.match(parent?.name ?? '', /^attempt \d$/, `${name}'s parent is an attempt span`);
        assert.equal(parent?.service, 'gateway');
        assert.ok(ancestors(hop, byId).includes(iterate), `${name} is in the session's tree`);
      }
    }
    assert.equal(
      spans.find((s) => s.name === 'chat phantom-once')?.service,
      'chatd',
      'the generation comes from chatd',
    );
    const chat = spans.find((s) => s.name === 'chat phantom-once');
    assert.equal(chat?.attributes['gen_ai.operation.name'], 'chat');
    assert.equal(chat?.attributes['gen_ai.request.model'], 'phantom-once');
    assert.equal(typeof chat?.attributes['gen_ai.usage.input_tokens'], 'number');
  });

  it('writes the trace id into every log line written while serving the request', async () => {
    const res = await postJson(
      `${stack.gateway.url}/v1/iterate`,
      await fillRequest('phantom-once'),
    );
    const traceId = String(res.body.trace_id);
    const lines = await eventually(
      () => {
        const found = stack.gateway.lines.filter((l) => l.includes(traceId));
        return found.length > 0 ? found : undefined;
      },
      5_000,
      'a gateway log line carrying the trace id',
    );
    for (const line of lines)
      assert.equal((JSON.parse(line) as { trace_id?: string }).trace_id, traceId);
  });
});

describe('inbound X-Lakehouse-Trace-Id and traceparent rules at the gateway', () => {
  let gateway: ServiceHandle;
  let chatd: ServiceHandle;
  before(async () => {
    const rosterPath = await sharedRoster();
    chatd = await startService('chatd', { ROSTER_PATH: rosterPath });
    gateway = await startService('gateway', { ROSTER_PATH: rosterPath, CHATD_URL: chatd.url });
  });
  after(async () => {
    await gateway?.stop();
    await chatd?.stop();
  });

  const validId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const cases: Array<{ name: string; headers: Record<string, string>; expect: string | 'fresh' }> =
    [
      { name: 'no header', headers: {}, expect: 'fresh' },
      { name: 'lower-case header', headers: { [TRACE_HEADER]: validId }, expect: validId },
      {
        name: 'upper-case header',
        headers: { [TRACE_HEADER]: validId.toUpperCase() },
        expect: validId,
      },
      {
        name: 'UUID form',
        headers: { [TRACE_HEADER]: '4BF92F35-77B3-4DA6-A3CE-929D0E0E4736' },
        expect: validId,
      },
      {
        name: 'traceparent',
        headers: { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` },
        expect: 'a'.repeat(32),
      },
      {
        name: 'both present and different: traceparent wins',
        headers: {
          traceparent: `00-${'c'.repeat(32)}-${'b'.repeat(16)}-01`,
          [TRACE_HEADER]: validId,
        },
        expect: 'c'.repeat(32),
      },
      { name: 'all zeros', headers: { [TRACE_HEADER]: '0'.repeat(32) }, expect: 'fresh' },
      { name: '31 hex chars', headers: { [TRACE_HEADER]: validId.slice(1) }, expect: 'fresh' },
      { name: '33 hex chars', headers: { [TRACE_HEADER]: validId + 'a' }, expect: 'fresh' },
      { name: 'non-hex', headers: { [TRACE_HEADER]: 'zz' + validId.slice(2) }, expect: 'fresh' },
      { name: '10 KB value', headers: { [TRACE_HEADER]: 'ab'.repeat(5120) }, expect: 'fresh' },
    ];

  async function rejectedCount(): Promise<number> {
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    let total = 0;
    for (const line of text.split('\n')) {
      if (/^lakehouse_trace_header_rejected\w*(\{|\s)/.test(line))
        total += Number(line.trim().split(/\s+/).pop());
    }
    return total;
  }

  for (const c of cases) {
    it(`${c.name} → ${c.expect === 'fresh' ? 'a fresh id' : 'that id'}`, async () => {
      const before = await rejectedCount();
      const res = await postJson(
        `${gateway.url}/v1/iterate`,
        await fillRequest('clean'),
        c.headers,
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const header = res.headers.get(TRACE_HEADER);
      assert.equal(header, res.body.trace_id);
      assert.match(String(header), /^[0-9a-f]{32}$/);
      if (c.expect === 'fresh') {
        for (const value of Object.values(c.headers)) {
          assert.ok(
            !JSON.stringify(res.body).includes(value.toLowerCase()),
            'the invalid value is never echoed',
          );
          assert.notEqual(header, value.toLowerCase());
        }
        if (Object.keys(c.headers).length > 0)
          assert.equal(await rejectedCount(), before + 1, 'the rejection is counted');
      } else {
        assert.equal(header, c.expect);
      }
    });
  }

  it('a CRLF injection attempt never reaches the response', async () => {
    // fetch refuses CR/LF in header values, so speak raw HTTP.
    const { port } = new URL(gateway.url);
    const body = JSON.stringify(await fillRequest('clean'));
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.createConnection({ host: '127.0.0.1', port: Number(port) });
      let data = '';
      socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
      socket.write(
        `POST /v1/iterate HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n` +
          `X-Lakehouse-Trace-Id: ${validId}\rSet-Cookie: injected=1\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
    assert.match(
      reply,
      /^HTTP\/1\.1 (200|400) /,
      'answered (or refused by the HTTP parser), never crashed',
    );
    assert.ok(!/^set-cookie: injected/im.test(reply), 'no injected header is reflected');
    assert.ok(!reply.includes('injected'), 'the injected text never comes back');
  });
});

describe('outbound hops carry traceparent and the mirrored header with the same id', () => {
  it('chatd and the validate hop receive both headers', async () => {
    const roster = await WorkerLookup.load(await sharedRoster());
    const contract = sampleContract(roster, 5);
    const workers = roster.find({ ...contract, activeOnly: true }, 1);
    const content =
      '```json\n' +
      JSON.stringify({
        fills: workers.map((w) => ({ candidate_id: w.candidateId, name: w.name })),
      }) +
      '\n```';
    // The stand-in chatd and a proxy in front of the gateway's own /v1/validate record each hop.
    const recorder = await startRecordedHops(await sharedRoster(), content);
    try {
      const { traceId, hops } = await recorder.iterateFill(contract);
      for (const hop of hops) {
        assert.equal(
          hop.headers[TRACE_HEADER],
          traceId,
          `${hop.path} carries x-lakehouse-trace-id`,
        );
        assert.equal(
          (hop.headers.traceparent as string | undefined)?.split('-')[1],
          traceId,
          `${hop.path} carries a traceparent with the same id`,
        );
      }
    } finally {
      await recorder.close();
    }
  });
});
