import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createContextKey,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  TraceFlags,
} from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  RandomIdGenerator,
} from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  defaultMask,
  isContentKey,
  LAKEHOUSE_ATTRIBUTES as LH,
  LangfuseTranslatingSpanProcessor,
  joinedParentSpanId,
  outputMessagesText,
} from '../src/index.js';
import './harness.js'; // registers the context manager

void describe('defaultMask', () => {
  const cases: Array<[string, string]> = [
    ['key sk-abcdefghijklmnopqrstuvwxyz012345 here', 'key [REDACTED] here'],
    ['sk-proj-Ab3_dEf-GhIjKlMnOpQrStUv', '[REDACTED]'],
    ['pk-lf-1234-abcd and sk-lf-9876-zyxw', '[REDACTED] and [REDACTED]'],
    ['Authorization: Bearer abc.def.ghi', 'Authorization: [REDACTED]'],
    ['{"authorization":"Basic dXNlcjpwYXNz"}', '{"authorization":"[REDACTED]"}'],
    ['curl -H "x: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc123"', 'curl -H "x: Bearer [REDACTED]"'],
    ['https://x/?api_key=s3cr3t&q=1', 'https://x/?api_key=[REDACTED]&q=1'],
    ['{"OPENAI_API_KEY": "abc"}', '{"OPENAI_API_KEY": "[REDACTED]"}'],
    ['password=hunter2', 'password=[REDACTED]'],
    ['password="hunter 2"', 'password="[REDACTED]"'],
    ['{"api_key": "two words"}', '{"api_key": "[REDACTED]"}'],
    [
      JSON.stringify('{"api_key": "abc def", "x": "Authorization: \\"Basic dXNlcjpwYXNz\\""}'),
      JSON.stringify('{"api_key": "[REDACTED]", "x": "Authorization: \\"[REDACTED]\\""}'),
    ],
    ['groq gsk_abcdefghijklmnopqrstuvwxyz0123', 'groq [REDACTED]'],
    ['google AIzaSyA1234567890abcdefghijklmnopqrstuv', 'google [REDACTED]'],
    ['gh ghp_0123456789abcdefghijklmnopqrstuvwxyz', 'gh [REDACTED]'],
    ['aws AKIAIOSFODNN7EXAMPLE', 'aws [REDACTED]'],
    ['jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl', 'jwt [REDACTED]'],
    ['"line\\nsk-abcdefghijklmnopqrstuvwxyz012345"', '"line\\n[REDACTED]"'],
    ['postgres://app:s3cret@db:5432/x', 'postgres://app:[REDACTED]@db:5432/x'],
  ];
  for (const [input, expected] of cases) {
    void it(`masks ${JSON.stringify(input)}`, () => assert.equal(defaultMask(input), expected));
  }
  void it('leaves ordinary prose, task names and token counts alone', () => {
    const prose =
      'Basic information for the task-skeleton; max_tokens: 4096, bearer of news, sk-short';
    assert.equal(defaultMask(prose), prose);
  });
});

void describe('content keys', () => {
  void it('treats prompt/response text keys as content but not model, usage or sizes', () => {
    for (const k of [
      'gen_ai.input.messages',
      'gen_ai.output.messages',
      'langfuse.observation.input',
      LH.PROMPT,
      LH.ARTIFACT,
      LH.ATTEMPT_PROMPT,
      LH.ATTEMPT_RAW,
      'gen_ai.prompt.0.content',
    ]) {
      assert.ok(isContentKey(k), k);
    }
    for (const k of [
      'gen_ai.request.model',
      'gen_ai.usage.input_tokens',
      'http.request.body.size',
      'langfuse.observation.status_message',
      'langfuse.observation.level',
      LH.ATTEMPT_ERROR,
      LH.ATTEMPT_VERDICT,
      LH.MODEL,
    ]) {
      assert.ok(!isContentKey(k), k);
    }
  });
  void it('extracts the text of GenAI output messages in both shapes', () => {
    assert.equal(outputMessagesText('[{"role":"assistant","content":"hi"}]'), 'hi');
    assert.equal(
      outputMessagesText(
        '[{"role":"assistant","parts":[{"type":"text","content":"a"},{"type":"text","content":"b"}]}]',
      ),
      'ab',
    );
    assert.equal(outputMessagesText('plain'), 'plain');
  });
});

const TRUSTED = createContextKey('test.trusted');
const CALLER = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  traceFlags: TraceFlags.SAMPLED,
  isRemote: true,
};

async function exported(
  run: (tracer: ReturnType<BasicTracerProvider['getTracer']>) => void,
  traceId?: string,
): Promise<ReadableSpan[]> {
  const exporter = new InMemorySpanExporter();
  const processor = new LangfuseTranslatingSpanProcessor({
    exporter,
    env: {},
    isTrustedRemoteParent: (ctx: Context) => ctx.getValue(TRUSTED) === true,
  });
  const ids = new RandomIdGenerator();
  const provider = new BasicTracerProvider({
    spanProcessors: [processor],
    idGenerator: {
      generateTraceId: () => traceId ?? ids.generateTraceId(),
      generateSpanId: () => ids.generateSpanId(),
    },
  });
  run(provider.getTracer('chatd'));
  await provider.forceFlush();
  const spans = exporter.getFinishedSpans();
  await provider.shutdown();
  return spans;
}

function generation(
  tracer: ReturnType<BasicTracerProvider['getTracer']>,
  ctx: Context,
  source?: string,
): void {
  tracer
    .startSpan(
      'chat m',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.request.model': 'm',
          'gen_ai.input.messages': '[{"role":"user","content":"hi"}]',
          ...(source !== undefined ? { [LH.TRACE_ID_SOURCE]: source } : {}),
        },
      },
      ctx,
    )
    .end();
}

void describe('placement under remote parents (issue 12, invariant 6)', () => {
  void it('places a span under a remote parent only when it is one of our own hops', async () => {
    const remote = trace.setSpanContext(ROOT_CONTEXT, CALLER);
    const [trusted] = await exported((t) => generation(t, remote.setValue(TRUSTED, true)));
    assert.equal(trusted?.parentSpanContext?.spanId, CALLER.spanId);
    assert.equal(trusted?.attributes['langfuse.internal.as_root'], undefined);
  });

  void it("a direct chatd call with a foreign parent joins the caller's trace at its top, never under the caller-named span", async () => {
    const remote = trace.setSpanContext(ROOT_CONTEXT, CALLER);
    const [span] = await exported((t) => generation(t, remote, 'traceparent'));
    assert.equal(span?.parentSpanContext?.spanId, joinedParentSpanId(CALLER.traceId));
    assert.equal(span?.attributes[LH.UPSTREAM_PARENT_SPAN_ID], CALLER.spanId, 'kept for forensics');
    assert.equal(span?.attributes['langfuse.internal.as_root'], undefined, 'not a Langfuse root');
    assert.equal(span?.attributes['langfuse.trace.name'], undefined);
    assert.equal(
      span?.attributes['langfuse.observation.input'],
      '[{"role":"user","content":"hi"}]',
    );
  });

  void it('a direct chatd call without any parent is its own trace: a root that names it', async () => {
    const [span] = await exported((t) => generation(t, ROOT_CONTEXT, 'minted'));
    assert.equal(span?.parentSpanContext, undefined);
    assert.equal(span?.attributes['langfuse.internal.as_root'], true);
    assert.equal(span?.attributes['langfuse.trace.name'], 'chat:m');
  });

  void it('forged placement baggage is ignored: the parent stays the W3C one', async () => {
    const bag = propagation.createBaggage({
      'langfuse.observation.parent_id': { value: '1234567890abcdef' },
    });
    const ctx = propagation.setBaggage(trace.setSpanContext(ROOT_CONTEXT, CALLER), bag);
    const [span] = await exported((t) => generation(t, ctx, 'traceparent'));
    assert.equal(span?.parentSpanContext?.spanId, joinedParentSpanId(CALLER.traceId));
  });

  void it('two sessions under one caller-chosen trace id: both join it under one parent, neither sets trace-level fields', async () => {
    const spans = await exported((t) => {
      for (const prompt of ['first', 'second']) {
        t.startSpan(
          'iterate fill',
          {
            attributes: {
              [LH.SESSION_ROOT]: true,
              [LH.KIND]: 'fill',
              [LH.PROMPT]: prompt,
              [LH.FINAL_VERDICT]: 'accepted',
              [LH.TRACE_ID_SOURCE]: 'header',
            },
          },
          // X-Lakehouse-Trace-Id only: the session starts as a root in the caller's trace id.
          ROOT_CONTEXT,
        ).end();
      }
    }, 'c3'.repeat(16));
    assert.equal(spans.length, 2);
    assert.deepEqual(
      spans.map((s) => s.parentSpanContext?.spanId),
      [joinedParentSpanId('c3'.repeat(16)), joinedParentSpanId('c3'.repeat(16))],
      'one parent id, derived from the trace id',
    );
    for (const span of spans) {
      assert.equal(span.attributes['langfuse.internal.as_root'], undefined);
      assert.ok(!Object.keys(span.attributes).some((k) => k.startsWith('langfuse.trace.')));
      assert.match(String(span.attributes['langfuse.observation.input']), /first|second/);
      assert.match(
        String(span.attributes['langfuse.observation.metadata']),
        /"final_verdict":"accepted"/,
      );
    }
  });

  void it('a session whose trace id we minted names its trace', async () => {
    const [span] = await exported((t) =>
      t
        .startSpan('iterate fill', {
          attributes: {
            [LH.SESSION_ROOT]: true,
            [LH.KIND]: 'fill',
            [LH.TRACE_ID_SOURCE]: 'minted',
          },
        })
        .end(),
    );
    assert.equal(span?.attributes['langfuse.trace.name'], 'iterate:fill');
    assert.equal(span?.parentSpanContext, undefined);
    assert.equal(span?.attributes['langfuse.internal.as_root'], true);
  });
});
