// Shared test harness: two in-process "services" (the Langfuse stand-in is @lakehouse/test-support's).
import {
  context,
  createContextKey,
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { Context, Span, Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LAKEHOUSE_ATTRIBUTES as LH } from '../src/index.js';

const contextManager = new AsyncLocalStorageContextManager();
contextManager.enable();
context.setGlobalContextManager(contextManager);
propagation.setGlobalPropagator(
  new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  }),
);

// Stands in for the telemetry package's hop signature: a header only our simulated hops send.
const HOP_HEADER = 'x-test-hop';
const TRUSTED = createContextKey('test.hop.trusted');

/** The processors' isTrustedRemoteParent in these tests: the parent came through one of our hops. */
export function isTrustedTestParent(ctx: Context): boolean {
  return ctx.getValue(TRUSTED) === true;
}

export const HTTP_SCOPE = '@opentelemetry/instrumentation-http';
export const EXPRESS_SCOPE = '@opentelemetry/instrumentation-express';

/** One simulated service: its own provider (service.name resource) and tracers. */
export class Service {
  readonly provider: BasicTracerProvider;
  readonly http: Tracer;
  readonly express: Tracer;
  readonly app: Tracer;

  constructor(name: string, processor: SpanProcessor) {
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': name }),
      spanProcessors: [processor],
    });
    this.http = this.provider.getTracer(HTTP_SCOPE, '0.223.0');
    this.express = this.provider.getTracer(EXPRESS_SCOPE, '0.223.0');
    this.app = this.provider.getTracer(`lakehouse-${name}`);
  }

  /** Serves one inbound request: HTTP server span → Express span (both noise) → handler(ctx). */
  serve<T>(carrier: Record<string, string>, route: string, handler: (ctx: Context) => T): T {
    let extracted = propagation.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
    if (carrier[HOP_HEADER] === 'ours') extracted = extracted.setValue(TRUSTED, true);
    const server = this.http.startSpan(`POST ${route}`, { kind: SpanKind.SERVER }, extracted);
    const serverCtx = trace.setSpan(extracted, server);
    const mw = this.express.startSpan(`request handler - ${route}`, {}, serverCtx);
    try {
      return context.with(trace.setSpan(serverCtx, mw), () => handler(context.active()));
    } finally {
      mw.end();
      server.end();
    }
  }

  /**
   * An outbound hop from the active context as the services make it: no client span; the
   * active (attempt) span is the W3C parent, marked as one of our own hops.
   */
  call<T>(_route: string, remote: (carrier: Record<string, string>) => T): T {
    const carrier: Record<string, string> = { [HOP_HEADER]: 'ours' };
    propagation.inject(context.active(), carrier, defaultTextMapSetter);
    return remote(carrier);
  }
}

export interface AttemptPlan {
  /** What the simulated model answers. */
  readonly verdict: 'accepted' | 'validation_failed' | 'no_json' | 'infra_error';
}

export interface SessionPlan {
  readonly kind?: string;
  readonly model?: string;
  readonly prompt?: string;
  readonly attempts: readonly AttemptPlan[];
  /** Inbound headers sent by the gateway's own caller (e.g. a traceparent). */
  readonly inbound?: Record<string, string>;
  readonly capture?: boolean;
}

/** chatd's POST /v1/chat: one GenAI `chat {model}` span under the HTTP/Express noise. */
export function chatdHandle(
  chatd: Service,
  carrier: Record<string, string>,
  model: string,
  prompt: string,
  fail = false,
): string {
  return chatd.serve(carrier, '/v1/chat', () => {
    const span = chatd.app.startSpan(`chat ${model}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'sim',
        'gen_ai.request.model': model,
        'gen_ai.request.temperature': 0.2,
        'gen_ai.request.max_tokens': 4096,
        'gen_ai.input.messages': JSON.stringify([{ role: 'user', content: prompt }]),
        [LH.COMPLETION_START_TIME]: new Date().toISOString(),
      },
    });
    const text = fail ? '' : '{"fills":[{"candidate_id":"W-1","name":"Ada"}]}';
    if (fail) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'provider timed out' });
    } else {
      span.setAttributes({
        'gen_ai.response.model': model,
        'gen_ai.response.finish_reasons': ['stop'],
        'gen_ai.usage.input_tokens': 120,
        'gen_ai.usage.output_tokens': 45,
        'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', content: text }]),
      });
    }
    span.end();
    return text;
  });
}

/** Runs one iterate session across the gateway and chatd; returns the session's trace id. */
export function runSession(gateway: Service, chatd: Service, plan: SessionPlan): string {
  const kind = plan.kind ?? 'fill';
  const model = plan.model ?? 'phantom-once';
  const prompt = plan.prompt ?? 'Find 1 forklift operator in Reno, NV';
  const capture = plan.capture ?? true;
  return gateway.serve(plan.inbound ?? {}, '/v1/iterate', () => {
    const attrs: Record<string, string | number | boolean> = {
      [LH.SESSION_ROOT]: true,
      [LH.KIND]: kind,
      [LH.MODEL]: model,
      [LH.PROVIDER]: 'sim',
      [LH.MAX_ITERATIONS]: plan.attempts.length,
    };
    // What the gateway writes: the request's parts, content only with capture on.
    if (capture) {
      attrs[LH.PROMPT] = prompt;
      attrs[LH.CONTEXT] = '{}';
      attrs[LH.TEMPERATURE] = 0.2;
      attrs[LH.MAX_TOKENS] = 4096;
    }
    return gateway.app.startActiveSpan(
      `iterate ${kind}`,
      { attributes: attrs },
      (session: Span) => {
        let final = 'max_iter_exhausted';
        let current = prompt;
        plan.attempts.forEach((a, n) => {
          gateway.app.startActiveSpan(`attempt ${n}`, (attempt: Span) => {
            attempt.setAttributes({
              [LH.ATTEMPT_ITERATION]: n,
              [LH.MODEL]: model,
              [LH.PROVIDER]: 'sim',
              [LH.ATTEMPT_PROMPT]: current,
            });
            const infra = a.verdict === 'infra_error';
            const raw = gateway.call('/v1/chat', (carrier) =>
              chatdHandle(chatd, carrier, model, current, infra),
            );
            let error: string | null = null;
            if (infra) {
              error = 'chat hop failed: provider timed out';
              attempt.setStatus({ code: SpanStatusCode.ERROR, message: error });
            } else if (a.verdict !== 'no_json') {
              const ok = a.verdict === 'accepted';
              gateway.call('/v1/validate', (carrier) =>
                gateway.serve(carrier, '/v1/validate', () => {
                  const v = gateway.app.startSpan(`validate ${kind}`, {
                    attributes: {
                      [LH.VALIDATE_KIND]: kind,
                      [LH.VALIDATE_OK]: ok,
                      [LH.VALIDATE_REPORT]: JSON.stringify(
                        ok
                          ? { ok: true, warnings: [], grounded_in_roster: true }
                          : {
                              ok: false,
                              errors: [
                                {
                                  category: 'consistency',
                                  message: 'candidate_id W-999 not in roster',
                                },
                              ],
                              warnings: [],
                            },
                      ),
                    },
                  });
                  v.end();
                }),
              );
              if (!ok) error = 'candidate_id W-999 not in roster';
            } else {
              error = "response wasn't valid JSON";
            }
            attempt.setAttribute(LH.ATTEMPT_VERDICT, a.verdict);
            attempt.setAttribute(LH.ATTEMPT_RAW, raw);
            if (error !== null) attempt.setAttribute(LH.ATTEMPT_ERROR, error);
            attempt.end();
            if (a.verdict === 'accepted') final = 'accepted';
            if (infra) final = 'infra_error';
            if (error !== null)
              current = `${current}\n\nYour previous response was rejected: ${error}.`;
          });
        });
        session.setAttribute(LH.FINAL_VERDICT, final);
        session.setAttribute(LH.ITERATIONS, plan.attempts.length);
        if (final === 'accepted') {
          session.setAttribute(LH.GROUNDED_IN_ROSTER, true);
          if (capture)
            session.setAttribute(
              LH.ARTIFACT,
              JSON.stringify({ fills: [{ candidate_id: 'W-1', name: 'Ada' }] }),
            );
        }
        session.end();
        return session.spanContext().traceId;
      },
    );
  });
}
