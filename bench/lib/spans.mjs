// Synthetic sessions shaped like the services' real spans (no http instrumentation): per session
// the gateway's `iterate fill` and `attempt 0`, its `validate fill` under the attempt as a remote
// (hop) parent, and chatd's `chat clean` generation under the same remote parent, with the
// attributes the services set. 4 spans per session, all of them exported.
import {
  SpanKind,
  SpanStatusCode,
  createContextKey,
  trace,
  ROOT_CONTEXT,
} from '@opentelemetry/api';
import { LAKEHOUSE_ATTRIBUTES as LH } from '@lakehouse/langfuse-processor';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';

export const SPANS_PER_SESSION = 4;

// Stands in for the telemetry package's verified hop signature.
const TRUSTED = createContextKey('bench.trusted');

/** What our processor is given as isTrustedRemoteParent in the in-process figures. */
export function isTrustedBenchParent(ctx) {
  return ctx.getValue(TRUSTED) === true;
}

const PROMPT = 'Staff 3 picker packers in Allentown, PA for client C-007.';
const CONTRACT = {
  target_count: 3,
  city: 'Allentown',
  state: 'PA',
  role: 'picker packer',
  client_id: 'C-007',
};
const PROMPT_0 =
  `${PROMPT}\n\nArtifact kind: fill\nContract: ${JSON.stringify(CONTRACT)}\n` +
  'Respond with exactly one JSON object: {"fills":[{"candidate_id":"W-<id>","name":"<full name>"}]}';
const ARTIFACT = {
  fills: [
    { candidate_id: 'W-395', name: 'Patricia Garcia' },
    { candidate_id: 'W-460', name: 'Susan Washington' },
    { candidate_id: 'W-785', name: "Luis O'Brien" },
  ],
};
const RAW = `Here are 3 available picker packers in Allentown, PA:\n${JSON.stringify(ARTIFACT)}`;
const MESSAGES = JSON.stringify([{ role: 'user', content: PROMPT_0 }]);
const OUTPUT_MESSAGES = JSON.stringify([{ role: 'assistant', content: RAW }]);
const REPORT = JSON.stringify({ ok: true, warnings: [], grounded_in_roster: true });

/** Two providers (gateway and chatd processes), each with its own processors from `makeProcessors()`. */
export function makeProviders(makeProcessors) {
  const gateway = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'gateway', 'service.version': '0.1.0' }),
    spanProcessors: makeProcessors(),
  });
  const chatd = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'chatd', 'service.version': '0.1.0' }),
    spanProcessors: makeProcessors(),
  });
  const t = { gw: gateway.getTracer('gateway'), ch: chatd.getTracer('chatd') };
  return {
    runSessions: (count) => {
      for (let i = 0; i < count; i++) session(t);
    },
    async flush() {
      await Promise.all([gateway.forceFlush(), chatd.forceFlush()]);
    },
    async shutdown() {
      await Promise.all([gateway.shutdown(), chatd.shutdown()]);
    },
  };
}

function hopContext(attempt) {
  const remote = { ...attempt.spanContext(), isRemote: true };
  return trace.setSpanContext(ROOT_CONTEXT, remote).setValue(TRUSTED, true);
}

function session(t) {
  const iterate = t.gw.startSpan(
    'iterate fill',
    {
      attributes: {
        [LH.SESSION_ROOT]: true,
        [LH.TRACE_ID_SOURCE]: 'minted',
        [LH.KIND]: 'fill',
        [LH.MODEL]: 'clean',
        [LH.PROVIDER]: 'sim',
        [LH.MAX_ITERATIONS]: 3,
        [LH.PROMPT]: PROMPT,
        [LH.CONTEXT]: JSON.stringify(CONTRACT),
        [LH.TEMPERATURE]: 0.2,
        [LH.MAX_TOKENS]: 4096,
      },
    },
    ROOT_CONTEXT,
  );
  const attempt = t.gw.startSpan(
    'attempt 0',
    {
      attributes: {
        [LH.ATTEMPT_ITERATION]: 0,
        [LH.MODEL]: 'clean',
        [LH.PROVIDER]: 'sim',
      },
    },
    trace.setSpan(ROOT_CONTEXT, iterate),
  );
  attempt.setAttribute(LH.ATTEMPT_PROMPT, PROMPT_0);
  const hop = hopContext(attempt);

  const chat = t.ch.startSpan(
    'chat clean',
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'sim',
        'gen_ai.request.model': 'clean',
        'gen_ai.request.temperature': 0.2,
        'gen_ai.request.max_tokens': 4096,
        [LH.PROVIDER]: 'sim',
        [LH.TRACE_ID_SOURCE]: 'traceparent',
        'gen_ai.input.messages': MESSAGES,
      },
    },
    hop,
  );
  chat.setAttributes({
    'gen_ai.response.model': 'clean',
    'gen_ai.response.finish_reasons': ['stop'],
    'gen_ai.usage.input_tokens': 72,
    'gen_ai.usage.output_tokens': 102,
    [LH.COMPLETION_START_TIME]: '2026-11-25T06:46:05.012Z',
    'gen_ai.output.messages': OUTPUT_MESSAGES,
    [LH.COMPLETION]: RAW,
  });
  chat.end();

  const validate = t.gw.startSpan(
    'validate fill',
    { attributes: { [LH.TRACE_ID_SOURCE]: 'traceparent' } },
    hop,
  );
  validate.setAttribute(LH.VALIDATE_KIND, 'fill');
  validate.setAttribute(LH.VALIDATE_OK, true);
  validate.setAttribute(LH.VALIDATE_REPORT, REPORT);
  validate.end();

  attempt.setAttribute(LH.ATTEMPT_VERDICT, 'accepted');
  attempt.setAttribute(LH.ATTEMPT_RAW, RAW);
  attempt.end();
  iterate.setAttributes({
    [LH.FINAL_VERDICT]: 'accepted',
    [LH.ITERATIONS]: 1,
    [LH.GROUNDED_IN_ROSTER]: true,
    [LH.ARTIFACT]: JSON.stringify(ARTIFACT),
  });
  iterate.setStatus({ code: SpanStatusCode.UNSET });
  iterate.end();
}
