// Synthetic sessions shaped like the services' real spans: per session the gateway's http/express
// noise, `iterate fill`, `attempt 0`, the chat and validate hops (client + server spans, baggage
// carrying the observation parent), `validate fill`, and chatd's server span, express spans and
// the `chat clean` generation with gen_ai.* attributes. 15 spans per session, 4 of them ours.
import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';

export const SPANS_PER_SESSION = 15;

const HTTP = '@opentelemetry/instrumentation-http';
const EXPRESS = '@opentelemetry/instrumentation-express';
const PARENT_KEY = 'langfuse.observation.parent_id';

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
const REQUEST = JSON.stringify({
  kind: 'fill',
  prompt: PROMPT,
  provider: 'sim',
  model: 'clean',
  context: CONTRACT,
  max_iterations: 3,
});
const MESSAGES = JSON.stringify([{ role: 'user', content: PROMPT_0 }]);
const OUTPUT_MESSAGES = JSON.stringify([{ role: 'assistant', content: RAW }]);
const REPORT = JSON.stringify({ ok: true, warnings: [], grounded_in_roster: true });

function serverAttrs(route, port, peerPort) {
  return {
    'http.request.method': 'POST',
    'url.scheme': 'http',
    'url.path': route,
    'server.address': '127.0.0.1',
    'server.port': port,
    'network.protocol.version': '1.1',
    'network.peer.address': '127.0.0.1',
    'network.peer.port': peerPort,
    'client.address': '127.0.0.1',
    'user_agent.original': 'axios/1.21.0',
    'http.route': route,
  };
}

function clientAttrs(url, port) {
  return {
    'http.request.method': 'POST',
    'url.full': url,
    'server.address': '127.0.0.1',
    'server.port': port,
    'network.protocol.version': '1.1',
    'network.peer.address': '127.0.0.1',
    'network.peer.port': port,
  };
}

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
  const t = {
    gwHttp: gateway.getTracer(HTTP, '0.223.0'),
    gwExpress: gateway.getTracer(EXPRESS, '0.64.0'),
    gw: gateway.getTracer('gateway'),
    chHttp: chatd.getTracer(HTTP, '0.223.0'),
    chExpress: chatd.getTracer(EXPRESS, '0.64.0'),
    ch: chatd.getTracer('chatd'),
  };
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

function express(tracer, ctx, route) {
  for (const [name, type] of [
    ['middleware - jsonParser', 'middleware'],
    [`request handler - ${route}`, 'request_handler'],
  ]) {
    tracer
      .startSpan(
        name,
        { attributes: { 'http.route': route, 'express.name': name, 'express.type': type } },
        ctx,
      )
      .end();
  }
}

function withParentBaggage(ctx, spanId) {
  const baggage = propagation.createBaggage({ [PARENT_KEY]: { value: spanId } });
  return propagation.setBaggage(ctx, baggage);
}

function remoteChild(ctx, clientSpan, attemptId) {
  const remote = trace.setSpanContext(context.active(), {
    ...clientSpan.spanContext(),
    isRemote: true,
  });
  return withParentBaggage(remote, attemptId);
}

function session(t) {
  const root = context.active();
  const server = t.gwHttp.startSpan(
    'POST /v1/iterate',
    { kind: SpanKind.SERVER, attributes: serverAttrs('/v1/iterate', 4110, 51234) },
    root,
  );
  const serverCtx = trace.setSpan(root, server);
  express(t.gwExpress, serverCtx, '/v1/iterate');

  const iterate = t.gw.startSpan(
    'iterate fill',
    {
      attributes: {
        'lakehouse.session.root': true,
        'lakehouse.kind': 'fill',
        'lakehouse.model': 'clean',
        'lakehouse.provider': 'sim',
        'lakehouse.max_iterations': 3,
        'lakehouse.request': REQUEST,
      },
    },
    serverCtx,
  );
  const iterateCtx = trace.setSpan(serverCtx, iterate);
  const attempt = t.gw.startSpan(
    'attempt 0',
    {
      attributes: {
        'lakehouse.attempt.iteration': 0,
        'lakehouse.model': 'clean',
        'lakehouse.provider': 'sim',
        'lakehouse.attempt.prompt': PROMPT_0,
      },
    },
    iterateCtx,
  );
  const attemptCtx = trace.setSpan(iterateCtx, attempt);
  const attemptId = attempt.spanContext().spanId;
  const hopCtx = withParentBaggage(attemptCtx, attemptId);

  // chat hop: gateway client span → chatd server span → express → chat generation
  const chatClient = t.gwHttp.startSpan(
    'POST',
    { kind: SpanKind.CLIENT, attributes: clientAttrs('http://127.0.0.1:4120/v1/chat', 4120) },
    hopCtx,
  );
  const chatServer = t.chHttp.startSpan(
    'POST /v1/chat',
    { kind: SpanKind.SERVER, attributes: serverAttrs('/v1/chat', 4120, 51236) },
    remoteChild(hopCtx, chatClient, attemptId),
  );
  const chatServerCtx = withParentBaggage(trace.setSpan(root, chatServer), attemptId);
  express(t.chExpress, chatServerCtx, '/v1/chat');
  const chat = t.ch.startSpan(
    'chat clean',
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'sim',
        'gen_ai.request.model': 'clean',
        'lakehouse.provider': 'sim',
        'gen_ai.input.messages': MESSAGES,
      },
    },
    chatServerCtx,
  );
  chat.setAttributes({
    'gen_ai.response.model': 'clean',
    'gen_ai.response.finish_reasons': ['stop'],
    'gen_ai.usage.input_tokens': 72,
    'gen_ai.usage.output_tokens': 102,
    'lakehouse.completion_start_time': '2026-11-25T06:46:05.012Z',
    'gen_ai.output.messages': OUTPUT_MESSAGES,
  });
  chat.end();
  chatServer.setAttribute('http.response.status_code', 200);
  chatServer.end();
  chatClient.setAttribute('http.response.status_code', 200);
  chatClient.end();

  // validate hop: gateway client span → gateway server span → express → validate guardrail
  const valClient = t.gwHttp.startSpan(
    'POST',
    { kind: SpanKind.CLIENT, attributes: clientAttrs('http://127.0.0.1:4110/v1/validate', 4110) },
    hopCtx,
  );
  const valServer = t.gwHttp.startSpan(
    'POST /v1/validate',
    { kind: SpanKind.SERVER, attributes: serverAttrs('/v1/validate', 4110, 51238) },
    remoteChild(hopCtx, valClient, attemptId),
  );
  const valServerCtx = withParentBaggage(trace.setSpan(root, valServer), attemptId);
  express(t.gwExpress, valServerCtx, '/v1/validate');
  const validate = t.gw.startSpan('validate fill', {}, valServerCtx);
  validate.setAttribute('lakehouse.validate.kind', 'fill');
  validate.setAttribute('lakehouse.validate.ok', true);
  validate.setAttribute('lakehouse.validate.report', REPORT);
  validate.end();
  valServer.setAttribute('http.response.status_code', 200);
  valServer.end();
  valClient.setAttribute('http.response.status_code', 200);
  valClient.end();

  attempt.setAttribute('lakehouse.attempt.verdict', 'accepted');
  attempt.setAttribute('lakehouse.attempt.raw', RAW);
  attempt.end();
  iterate.setAttributes({
    'lakehouse.final_verdict': 'accepted',
    'lakehouse.iterations': 1,
    'lakehouse.grounded_in_roster': true,
    'lakehouse.artifact': JSON.stringify(ARTIFACT),
  });
  iterate.setStatus({ code: SpanStatusCode.UNSET });
  iterate.end();
  server.setAttribute('http.response.status_code', 200);
  server.end();
}
