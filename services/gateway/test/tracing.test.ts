// Runs with a real tracer and meter provider (own file: node --test isolates each file in a process).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { metrics, SpanStatusCode } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { DataPoint, Histogram } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import winston from 'winston';
import {
  LAKEHOUSE_ATTRIBUTES as LH,
  LANGFUSE_ATTRIBUTES as LF,
  translateSpan,
} from '@lakehouse/langfuse-processor';
import { extractRequestTrace, requestTraceIdGenerator } from '@lakehouse/telemetry';
import type { HopClient } from '../src/hop-client.js';
import { runIterateSession } from '../src/iterate-session.js';
import type { IterateSessionDeps } from '../src/iterate-session.js';
import { CONTRACT } from './fixtures.js';
import { postJson, startStubChatd, userPrompt } from '@lakehouse/test-support';
import { FakeSessionLog, startGateway } from './helpers.js';
import type { StubChatd } from '@lakehouse/test-support';
import type { TestGateway } from './helpers.js';

class TestReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const exporter = new InMemorySpanExporter();
const tracerProvider = new NodeTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(exporter)],
  idGenerator: requestTraceIdGenerator(),
});
tracerProvider.register();
const reader = new TestReader();
const meterProvider = new MeterProvider({ readers: [reader] });
metrics.setGlobalMeterProvider(meterProvider);

const PHANTOM = '{"fills":[{"candidate_id":"W-1"},{"candidate_id":"W-999"}]}';
const GOOD = '{"fills":[{"candidate_id":"W-1"},{"candidate_id":"W-2"}]}';

function attr(span: ReadableSpan | undefined, key: string): unknown {
  return span?.attributes[key];
}

// The Langfuse view of a span exactly as the gateway made it (capture on, no mask).
function langfuse(span: ReadableSpan | undefined, root = false): Record<string, unknown> {
  assert.ok(span !== undefined, 'span missing');
  return translateSpan(
    span,
    { parent: root ? undefined : span.parentSpanContext, root },
    { mask: (value) => value, contentCapture: true },
  ).attributes;
}

function json(value: unknown): unknown {
  return JSON.parse(String(value));
}

async function points(name: string): Promise<DataPoint<unknown>[]> {
  const { resourceMetrics } = await reader.collect();
  const found = resourceMetrics.scopeMetrics
    .flatMap((s) => s.metrics)
    .find((m) => m.descriptor.name === name);
  return (found?.dataPoints ?? []) as DataPoint<unknown>[];
}

void describe('tracing and metrics of an iterate session', () => {
  let chatd: StubChatd;
  let gw: TestGateway;
  before(async () => {
    chatd = await startStubChatd((call) => {
      if (call.model === 'down') return { status: 503, body: { error: 'overloaded' } };
      return userPrompt(call).includes('not in roster') ? GOOD : PHANTOM;
    });
    gw = await startGateway({ CHATD_URL: chatd.url });
  });
  after(async () => {
    await gw.close();
    await chatd.close();
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
  });

  void it('builds iterate → attempt spans with the Langfuse attributes and stamps span ids on the row', async () => {
    exporter.reset();
    const res = await postJson(`${gw.url}/v1/iterate`, {
      kind: 'fill',
      prompt: 'Staff it',
      provider: 'stub',
      model: 'phantom-once',
      context: CONTRACT,
    });
    assert.equal(res.status, 200);
    const traceId = res.traceHeader;
    const spans = exporter.getFinishedSpans();
    const root = spans.find((s) => s.name === 'iterate fill');
    assert.ok(root, spans.map((s) => s.name).join(','));
    assert.equal(root.spanContext().traceId, traceId);
    assert.equal(res.body['trace_id'], traceId);
    assert.equal(attr(root, LH.SESSION_ROOT), true);
    assert.equal(attr(root, LH.KIND), 'fill');
    assert.equal(attr(root, LH.MODEL), 'phantom-once');
    assert.equal(attr(root, LH.PROVIDER), 'stub');
    assert.equal(attr(root, LH.MAX_ITERATIONS), 3);
    assert.equal(attr(root, LH.ITERATIONS), 2);
    assert.equal(attr(root, LH.FINAL_VERDICT), 'accepted');
    assert.equal(attr(root, LH.GROUNDED_IN_ROSTER), true);
    assert.equal(attr(root, LH.PROMPT), 'Staff it', 'the prompt as sent, not encoded here');
    assert.equal(attr(root, LH.TRACE_ID_SOURCE), 'minted');
    assert.deepEqual(json(attr(root, LH.ARTIFACT)), JSON.parse(GOOD));

    const attempts = spans.filter((s) => s.name.startsWith('attempt '));
    assert.deepEqual(attempts.map((s) => s.name).sort(), ['attempt 0', 'attempt 1']);
    const [a0, a1] = [0, 1].map((n) => attempts.find((s) => s.name === `attempt ${n}`));
    for (const a of [a0, a1]) {
      assert.equal(a?.parentSpanContext?.spanId, root.spanContext().spanId);
      assert.equal(a?.spanContext().traceId, traceId);
    }
    assert.equal(attr(a0, LH.ATTEMPT_ITERATION), 0);
    assert.equal(attr(a0, LH.ATTEMPT_VERDICT), 'validation_failed');
    assert.equal(attr(a0, LH.ATTEMPT_ERROR), 'candidate_id W-999 not in roster');
    assert.equal(attr(a0, LH.ATTEMPT_RAW), PHANTOM);
    assert.ok(String(attr(a0, LH.ATTEMPT_PROMPT)).startsWith('Staff it\n\nArtifact kind: fill'));
    assert.equal(attr(a1, LH.ATTEMPT_VERDICT), 'accepted');
    assert.equal(attr(a1, LH.ATTEMPT_ERROR), undefined);

    const validates = spans.filter((s) => s.name === 'validate fill');
    assert.equal(validates.length, 2);
    const okValues = validates.map((s) => attr(s, LH.VALIDATE_OK)).sort();
    assert.deepEqual(okValues, [false, true]);
    assert.equal(attr(validates[0], LH.VALIDATE_KIND), 'fill');
    assert.equal(
      typeof (json(attr(validates[0], LH.VALIDATE_REPORT)) as { ok: unknown }).ok,
      'boolean',
    );

    // What Langfuse receives of them: langfuse-vocabulary.test (through the real processor).

    const record = gw.sessionLog.records.at(-1);
    assert.equal(record?.sessionId, traceId);
    assert.deepEqual(
      record?.attempts.map((a) => a.spanId),
      [a0?.spanContext().spanId, a1?.spanContext().spanId],
    );
  });

  void it('marks the attempt ERROR on infra_error and leaves grounded_in_roster unset', async () => {
    exporter.reset();
    const res = await postJson(`${gw.url}/v1/iterate`, {
      kind: 'fill',
      prompt: 'p',
      provider: 'stub',
      model: 'down',
    });
    assert.equal(res.status, 502);
    const spans = exporter.getFinishedSpans();
    const root = spans.find((s) => s.name === 'iterate fill');
    const attempt = spans.find((s) => s.name === 'attempt 0');
    assert.equal(attempt?.status.code, SpanStatusCode.ERROR);
    assert.equal(attr(attempt, LH.ATTEMPT_VERDICT), 'infra_error');
    assert.equal(attr(root, LH.FINAL_VERDICT), 'infra_error');
    assert.equal(attr(root, LH.GROUNDED_IN_ROSTER), undefined);
    assert.equal(attr(root, LH.ARTIFACT), undefined);
    assert.equal(langfuse(attempt)[LF.OBSERVATION_LEVEL], 'ERROR');
    assert.equal(langfuse(root, true)[LF.OBSERVATION_LEVEL], 'ERROR');
    assert.equal(gw.sessionLog.records.at(-1)?.attempts[0]?.spanId, attempt?.spanContext().spanId);
  });

  void it('records sessions, attempts and validation failures as metrics', async () => {
    const sessions = await points('lakehouse.iterate.sessions');
    const byVerdict = Object.fromEntries(
      sessions.map((p) => [`${p.attributes['final_verdict']}/${p.attributes['kind']}`, p.value]),
    );
    assert.deepEqual(byVerdict, { 'accepted/fill': 1, 'infra_error/fill': 1 });
    const attempts = await points('lakehouse.iterate.attempts');
    assert.equal((attempts[0]?.value as Histogram).count, 2);
    assert.equal((attempts[0]?.value as Histogram).sum, 3);
    const failures = await points('lakehouse.validation.failures');
    assert.deepEqual(
      failures.map((p) => [p.attributes['category'], p.attributes['kind'], p.value]),
      [['consistency', 'fill', 1]],
    );
  });
});

void describe('runIterateSession', () => {
  void it('logs exactly one infra_error session when something unexpected throws mid-session', async () => {
    const sessionLog = new FakeSessionLog();
    const counter = { add() {} };
    const hops = {
      chat(): Promise<string> {
        throw new Error('boom');
      },
    } as unknown as HopClient;
    const deps = {
      hops,
      logger: winston.createLogger({ silent: true }),
      sessionLog,
      instruments: { sessions: counter, attempts: { record() {} }, validationFailures: counter },
      contentCapture: false,
    } as unknown as IterateSessionDeps;
    const request = {
      kind: 'email' as const,
      prompt: 'original prompt',
      system: undefined,
      provider: 'stub',
      model: 'm',
      context: {},
      maxIterations: 3,
      temperature: 0.2,
      maxTokens: 10,
    };
    const trace = extractRequestTrace({ 'x-lakehouse-trace-id': 'ab'.repeat(16) });
    await assert.rejects(runIterateSession(request, trace, deps), /boom/);
    assert.equal(sessionLog.records.length, 1);
    const record = sessionLog.records[0];
    assert.equal(record?.sessionId, 'ab'.repeat(16));
    assert.equal(record?.finalVerdict, 'infra_error');
    assert.equal(record?.prompt, 'original prompt');
    assert.equal(record?.iterations, 1);
    assert.deepEqual(record?.attempts, [
      { iteration: 0, verdictKind: 'infra_error', error: 'internal error' },
    ]);
    assert.equal(record?.groundedInRoster, null);
  });
});
