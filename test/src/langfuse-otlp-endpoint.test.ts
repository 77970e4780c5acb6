// The Langfuse-shaped endpoint applies Langfuse's route rules; its protobuf decoder agrees with
// OpenTelemetry JS's encoders (protobuf and JSON) on the same spans.
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { LAKEHOUSE_ATTRIBUTES as LH } from '@lakehouse/langfuse-processor';
import {
  LANGFUSE_OTLP_TRACES_PATH,
  startLangfuseOtlpEndpoint,
  type LangfuseOtlpEndpoint,
} from './langfuse-otlp-endpoint.js';

const KEYS = { publicKey: 'pk-lf-test', secretKey: 'sk-lf-test' };
const AUTH = `Basic ${Buffer.from('pk-lf-test:sk-lf-test').toString('base64')}`;

function makeSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('lakehouse-test', '1.2.3');
  const root = tracer.startSpan('iterate fill', {
    kind: SpanKind.SERVER,
    attributes: {
      [LH.SESSION_ROOT]: true,
      'langfuse.observation.type': 'span',
      'gen_ai.usage.input_tokens': 179,
      ratio: 0.25,
      'big.negative': -(2 ** 40),
      tags: ['a', 'é', '😀'],
      'langfuse.observation.input': '{"prompt":"Staff <3> & go"}',
    },
  });
  const child = tracer.startSpan(
    'chat phantom-once',
    { attributes: { 'langfuse.observation.type': 'generation' } },
    trace.setSpan(context.active(), root),
  );
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  child.end();
  root.end();
  return exporter.getFinishedSpans();
}

async function post(
  endpoint: LangfuseOtlpEndpoint,
  body: Uint8Array | string,
  headers: Record<string, string>,
): Promise<number> {
  const response = await fetch(`${endpoint.baseUrl}${LANGFUSE_OTLP_TRACES_PATH}`, {
    method: 'POST',
    headers,
    body,
  });
  await response.arrayBuffer();
  return response.status;
}

void describe('the Langfuse-shaped OTLP endpoint', () => {
  let endpoint: LangfuseOtlpEndpoint;
  const spans = makeSpans();
  const protobuf = ProtobufTraceSerializer.serializeRequest(spans) ?? new Uint8Array();
  const json = JsonTraceSerializer.serializeRequest(spans) ?? new Uint8Array();

  before(async () => {
    endpoint = await startLangfuseOtlpEndpoint(KEYS);
  });
  after(() => endpoint?.close());

  void it('decodes protobuf exactly as OTLP/JSON carries the same spans, gzipped or not', async () => {
    assert.equal(
      await post(endpoint, gzipSync(protobuf), {
        authorization: AUTH,
        'content-type': 'application/x-protobuf',
        'content-encoding': 'gzip',
        'x-langfuse-ingestion-version': '4',
      }),
      200,
    );
    const fromProtobuf = endpoint.spans.splice(0);
    assert.equal(
      await post(endpoint, json, { authorization: AUTH, 'content-type': 'application/json' }),
      200,
    );
    const fromJson = endpoint.spans.splice(0);
    assert.equal(fromProtobuf.length, 2);
    assert.deepEqual(fromProtobuf, fromJson);
    const root = fromProtobuf.find((s) => s.name === 'iterate fill');
    assert.ok(root);
    assert.equal(root.scope, 'lakehouse-test');
    assert.equal(root.kind, SpanKind.SERVER + 1); // OTLP's enum is the API's plus one
    assert.equal(root.attributes['gen_ai.usage.input_tokens'], 179);
    assert.equal(root.attributes['big.negative'], -(2 ** 40));
    assert.deepEqual(root.attributes.tags, ['a', 'é', '😀']);
    assert.equal(root.attributes['langfuse.observation.input'], '{"prompt":"Staff <3> & go"}');
    const child = fromProtobuf.find((s) => s.name === 'chat phantom-once');
    assert.equal(child?.parentSpanId, root.spanId);
    assert.equal(child?.statusCode, 2);
    const traces = [...endpoint.traces().values()];
    assert.equal(traces.length, 0, 'spliced spans are gone from the trees');
  });

  void it('rebuilds one tree per trace with the Langfuse tree rules', async () => {
    await post(endpoint, protobuf, {
      authorization: AUTH,
      'content-type': 'application/x-protobuf',
    });
    const traces = [...endpoint.traces().values()];
    assert.equal(traces.length, 1);
    assert.equal(traces[0]?.roots.length, 1);
    assert.equal(traces[0]?.roots[0]?.children[0]?.type, 'generation');
    assert.deepEqual(traces[0]?.dangling, []);
    endpoint.spans.splice(0);
  });

  void it('refuses what Langfuse refuses, and records why', async () => {
    const cases: [string, Uint8Array | string, Record<string, string>, number][] = [
      ['no auth', protobuf, { 'content-type': 'application/x-protobuf' }, 401],
      [
        'wrong secret',
        protobuf,
        {
          authorization: `Basic ${Buffer.from('pk-lf-test:nope').toString('base64')}`,
          'content-type': 'application/x-protobuf',
        },
        401,
      ],
      ['text/plain', json, { authorization: AUTH, 'content-type': 'text/plain' }, 400],
      [
        'gzip header, plain body',
        protobuf,
        {
          authorization: AUTH,
          'content-type': 'application/x-protobuf',
          'content-encoding': 'gzip',
        },
        400,
      ],
      ['bad JSON', '{', { authorization: AUTH, 'content-type': 'application/json' }, 400],
      [
        'ingestion version 5',
        protobuf,
        {
          authorization: AUTH,
          'content-type': 'application/x-protobuf',
          'x-langfuse-ingestion-version': '5',
        },
        400,
      ],
      [
        'a span without ids (a logs export sent to the traces route)',
        JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'log' }] }] }] }),
        { authorization: AUTH, 'content-type': 'application/json' },
        400,
      ],
    ];
    for (const [what, body, headers, status] of cases) {
      assert.equal(await post(endpoint, body, headers), status, what);
    }
    assert.equal(endpoint.spans.length, 0, 'nothing refused was kept');
    assert.equal(endpoint.requests.filter((r) => r.status >= 400).length, cases.length);
  });

  void it('goes down and comes back on the same port', async () => {
    const before = endpoint.baseUrl;
    await endpoint.stop();
    assert.equal(endpoint.up, false);
    await assert.rejects(fetch(`${before}${LANGFUSE_OTLP_TRACES_PATH}`, { method: 'POST' }));
    await endpoint.restart();
    assert.equal(
      await post(endpoint, protobuf, {
        authorization: AUTH,
        'content-type': 'application/x-protobuf',
      }),
      200,
    );
    assert.equal(endpoint.baseUrl, before);
  });
});
