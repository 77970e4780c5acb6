import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import axios from 'axios';
import type { AxiosResponse } from 'axios';
import {
  context,
  isSpanContextValid,
  isValidTraceId,
  SpanStatusCode,
  trace,
  TraceFlags,
} from '@opentelemetry/api';
import type { Attributes, Counter, Histogram, Span } from '@opentelemetry/api';
import type { Logger } from 'winston';
import { LAKEHOUSE_ATTRIBUTES as LH, withObservationParent } from '@lakehouse/langfuse-processor';
import type { SessionLog } from '@lakehouse/session-log';
import { extractJsonObject } from './extract-json.js';
import type { IterateRequest } from './iterate-request.js';
import {
  appendFeedback,
  buildInitialPrompt,
  buildMessages,
  NO_JSON_FEEDBACK,
  validationFeedback,
} from './prompt.js';
import type { ValidationIssue } from './validators/types.js';

/** Verdict of one attempt (SPEC §5 `verdict_kind`). */
export type AttemptVerdict = 'accepted' | 'validation_failed' | 'no_json' | 'infra_error';

/** Verdict of a session (SPEC §5 `final_verdict`). */
export type FinalVerdict = 'accepted' | 'max_iter_exhausted' | 'infra_error';

/** One entry of the response's `history`. `error` says why the attempt was not accepted. */
export interface HistoryEntry {
  iteration: number;
  raw: string | null;
  status: AttemptVerdict;
  error?: string;
}

/** The gateway's iterate instruments, created once per app from `metrics.getMeter('gateway')`. */
export interface IterateInstruments {
  sessions: Counter;
  attempts: Histogram;
  validationFailures: Counter;
}

/** What one session needs; `selfUrl` is the validate hop's base URL, resolved per request. */
export interface IterateSessionDeps {
  chatdUrl: string;
  selfUrl: string;
  chatTimeoutMs: number;
  validateTimeoutMs: number;
  logger: Logger;
  sessionLog: SessionLog;
  instruments: IterateInstruments;
  contentCapture: boolean;
}

/** The HTTP answer of a session: status and JSON body (always with `trace_id`). */
export interface IterateOutcome {
  status: number;
  body: Record<string, unknown>;
}

/** The `validation` part of a 200: the validate hop's report. */
interface AcceptedReport {
  ok: true;
  warnings: unknown[];
  grounded_in_roster: boolean | null;
}

type AttemptResult =
  | { verdict: 'accepted'; raw: string; artifact: Record<string, unknown>; report: AcceptedReport }
  | { verdict: 'validation_failed'; raw: string; error: string; feedback: string }
  | { verdict: 'no_json'; raw: string; error: string }
  | {
      verdict: 'infra_error';
      raw: string | null;
      error: string;
      /** chatd's 4xx status when it refused the request as the caller's mistake: answer 400, not 502. */
      callerStatus?: number;
    };

/** Thrown inside an attempt when a hop fails; the loop turns it into an infra_error verdict. */
class HopError extends Error {
  readonly callerStatus: number | undefined;
  constructor(message: string, callerStatus?: number) {
    super(message);
    this.name = 'HopError';
    this.callerStatus = callerStatus;
  }
}

const tracer = trace.getTracer('gateway');

function errorText(body: unknown): string {
  if (typeof body === 'object' && body !== null && 'error' in body) {
    const e = (body as { error: unknown }).error;
    if (typeof e === 'string') return e;
  }
  if (typeof body === 'string' && body.length > 0) return body.slice(0, 200);
  return 'no error message';
}

function describeAxiosError(err: unknown, hop: string, timeoutMs: number): string {
  if (axios.isAxiosError(err)) {
    if (err.code === 'ECONNABORTED' || err.code === 'ETIMEDOUT' || err.code === 'ERR_CANCELED') {
      return `${hop} timed out after ${timeoutMs} ms`;
    }
    return `${hop} unreachable: ${err.code ?? err.message}`;
  }
  return `${hop} failed: ${err instanceof Error ? err.message : String(err)}`;
}

async function post(
  url: string,
  body: unknown,
  timeoutMs: number,
  hop: string,
): Promise<AxiosResponse<unknown>> {
  try {
    // withObservationParent puts this attempt's span id in baggage so the callee's spans nest under it.
    return await withObservationParent(() =>
      axios.post<unknown>(url, body, {
        timeout: timeoutMs,
        // axios's timeout is per socket inactivity; the signal bounds the whole exchange.
        signal: AbortSignal.timeout(timeoutMs),
        validateStatus: () => true,
        headers: { 'content-type': 'application/json' },
        maxContentLength: 64 * 1024 * 1024,
      }),
    );
  } catch (err) {
    throw new HopError(describeAxiosError(err, hop, timeoutMs));
  }
}

async function chatHop(
  deps: IterateSessionDeps,
  req: IterateRequest,
  prompt: string,
): Promise<string> {
  const res = await post(
    `${deps.chatdUrl}/v1/chat`,
    {
      provider: req.provider,
      model: req.model,
      messages: buildMessages(req.system, prompt),
      temperature: req.temperature,
      max_tokens: req.maxTokens,
    },
    deps.chatTimeoutMs,
    'chatd',
  );
  if (res.status >= 200 && res.status < 300) {
    const content = (res.data as { content?: unknown } | null)?.content;
    if (typeof content !== 'string') throw new HopError('chatd answered without a string content');
    return content;
  }
  if (res.status === 404) {
    throw new HopError(
      `provider ${JSON.stringify(req.provider)} rejected by chatd (404): ${errorText(res.data)}`,
      404,
    );
  }
  if (res.status >= 400 && res.status < 500) {
    throw new HopError(
      `chatd rejected the request (${res.status}): ${errorText(res.data)}`,
      res.status,
    );
  }
  throw new HopError(`chatd failed (${res.status}): ${errorText(res.data)}`);
}

type ValidateHopResult =
  { ok: true; report: AcceptedReport } | { ok: false; errors: ValidationIssue[] };

async function validateHop(
  deps: IterateSessionDeps,
  req: IterateRequest,
  artifact: Record<string, unknown>,
): Promise<ValidateHopResult> {
  const res = await post(
    `${deps.selfUrl}/v1/validate`,
    { kind: req.kind, artifact, context: req.context },
    deps.validateTimeoutMs,
    'validate hop',
  );
  const data = res.data as Record<string, unknown> | null;
  if (res.status === 200 && data !== null && data['ok'] === true) {
    const grounded = data['grounded_in_roster'];
    return {
      ok: true,
      report: {
        ok: true,
        warnings: Array.isArray(data['warnings']) ? (data['warnings'] as unknown[]) : [],
        grounded_in_roster: typeof grounded === 'boolean' ? grounded : null,
      },
    };
  }
  if (res.status === 422 && data !== null && Array.isArray(data['errors'])) {
    return { ok: false, errors: data['errors'] as ValidationIssue[] };
  }
  throw new HopError(`validate hop failed (${res.status}): ${errorText(res.data)}`);
}

async function runAttempt(
  deps: IterateSessionDeps,
  req: IterateRequest,
  prompt: string,
): Promise<AttemptResult> {
  let raw: string | null = null;
  try {
    raw = await chatHop(deps, req, prompt);
    const artifact = extractJsonObject(raw);
    if (artifact === undefined) {
      return { verdict: 'no_json', raw, error: 'no JSON object found in the response' };
    }
    const checked = await validateHop(deps, req, artifact);
    if (checked.ok) return { verdict: 'accepted', raw, artifact, report: checked.report };
    const messages = checked.errors.map((e) =>
      typeof e?.message === 'string' ? e.message : String(e),
    );
    return {
      verdict: 'validation_failed',
      raw,
      error: messages.join('; '),
      feedback: validationFeedback(messages.map((message) => ({ message }))),
    };
  } catch (err) {
    if (err instanceof HopError) {
      const result: AttemptResult = { verdict: 'infra_error', raw, error: err.message };
      if (err.callerStatus !== undefined) result.callerStatus = err.callerStatus;
      return result;
    }
    throw err;
  }
}

function json(value: unknown): string {
  return JSON.stringify(value);
}

// With tracing on but no server span (no http instrumentation), give the session a synthetic
// remote parent carrying the resolved trace id so span, response and JSONL row share one id.
function sessionParentContext(traceId: string): ReturnType<typeof context.active> {
  const active = context.active();
  if (trace.getSpan(active) !== undefined || !isValidTraceId(traceId)) return active;
  return trace.setSpanContext(active, {
    traceId,
    spanId: randomBytes(8).toString('hex'),
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
  });
}

/**
 * Runs one generate → validate → retry session and returns the HTTP answer. Emits exactly one
 * session-log record whatever happens (also when it throws, after which the caller answers 500).
 */
export async function runIterateSession(
  req: IterateRequest,
  traceId: string,
  deps: IterateSessionDeps,
): Promise<IterateOutcome> {
  const started = performance.now();
  const capture = deps.contentCapture;
  const attributes: Attributes = {
    [LH.SESSION_ROOT]: true,
    [LH.KIND]: req.kind,
    [LH.MODEL]: req.model,
    [LH.PROVIDER]: req.provider,
    [LH.MAX_ITERATIONS]: req.maxIterations,
  };
  if (capture) attributes[LH.REQUEST] = json(requestForTrace(req));

  return tracer.startActiveSpan(
    `iterate ${req.kind}`,
    { attributes },
    sessionParentContext(traceId),
    async (span) => {
      const attempts: {
        iteration: number;
        verdictKind: AttemptVerdict;
        error?: string;
        spanId?: string;
      }[] = [];
      const history: HistoryEntry[] = [];
      let finalVerdict: FinalVerdict = 'infra_error';
      let accepted: Extract<AttemptResult, { verdict: 'accepted' }> | undefined;
      let last: AttemptResult | undefined;
      try {
        let prompt = buildInitialPrompt(req.prompt, req.kind, req.context);
        for (let i = 0; i < req.maxIterations; i++) {
          let traced: Awaited<ReturnType<typeof runTracedAttempt>>;
          try {
            traced = await runTracedAttempt(deps, req, prompt, i, capture);
          } catch (err) {
            // The attempt was spent even though it blew up; the row must say so.
            attempts.push({ iteration: i, verdictKind: 'infra_error', error: 'internal error' });
            throw err;
          }
          const { result, spanId } = traced;
          last = result;
          const entry: HistoryEntry = { iteration: i, raw: result.raw, status: result.verdict };
          if (result.verdict !== 'accepted') entry.error = result.error;
          history.push(entry);
          const record: (typeof attempts)[number] = { iteration: i, verdictKind: result.verdict };
          if (result.verdict !== 'accepted') record.error = result.error;
          if (spanId !== undefined) record.spanId = spanId;
          attempts.push(record);

          if (result.verdict === 'accepted') {
            accepted = result;
            finalVerdict = 'accepted';
            break;
          }
          if (result.verdict === 'infra_error') {
            finalVerdict = 'infra_error';
            break;
          }
          finalVerdict = 'max_iter_exhausted';
          prompt = appendFeedback(
            prompt,
            result.verdict === 'no_json' ? NO_JSON_FEEDBACK : result.feedback,
          );
        }
        return answer(req, traceId, finalVerdict, history, accepted, last);
      } catch (err) {
        finalVerdict = 'infra_error';
        span.recordException(err instanceof Error ? err : String(err));
        throw err;
      } finally {
        const grounded =
          req.kind === 'fill' && accepted !== undefined ? accepted.report.grounded_in_roster : null;
        const durationMs = Math.round(performance.now() - started);
        span.setAttribute(LH.FINAL_VERDICT, finalVerdict);
        span.setAttribute(LH.ITERATIONS, attempts.length);
        if (grounded !== null) span.setAttribute(LH.GROUNDED_IN_ROSTER, grounded);
        if (accepted !== undefined && capture)
          span.setAttribute(LH.ARTIFACT, json(accepted.artifact));
        if (finalVerdict === 'infra_error') {
          span.setStatus({
            code: SpanStatusCode.ERROR,
            message: last?.verdict === 'infra_error' ? last.error : 'internal error',
          });
        }
        span.end();

        deps.instruments.sessions.add(1, { final_verdict: finalVerdict, kind: req.kind });
        deps.instruments.attempts.record(attempts.length, { kind: req.kind });
        emitSession(deps, {
          sessionId: traceId,
          kind: req.kind,
          model: req.model,
          provider: req.provider,
          prompt: req.prompt,
          iterations: attempts.length,
          maxIterations: req.maxIterations,
          finalVerdict,
          attempts,
          ...(accepted !== undefined ? { artifact: accepted.artifact } : {}),
          groundedInRoster: grounded,
          durationMs,
        });
        deps.logger.info('iterate session', {
          trace_id: traceId,
          kind: req.kind,
          provider: req.provider,
          model: req.model,
          final_verdict: finalVerdict,
          iterations: attempts.length,
          duration_ms: durationMs,
        });
      }
    },
  );
}

function emitSession(deps: IterateSessionDeps, record: Parameters<SessionLog['emit']>[0]): void {
  try {
    deps.sessionLog.emit(record);
  } catch (err) {
    // The session log is best effort (SPEC §5): a failing sink never fails the request.
    deps.logger.warn('session log emit failed', {
      error: err instanceof Error ? err.message : String(err),
    });
  }
}

function requestForTrace(req: IterateRequest): Record<string, unknown> {
  const out: Record<string, unknown> = {
    kind: req.kind,
    prompt: req.prompt,
    provider: req.provider,
    model: req.model,
    context: req.context,
    max_iterations: req.maxIterations,
    temperature: req.temperature,
    max_tokens: req.maxTokens,
  };
  if (req.system !== undefined) out['system'] = req.system;
  return out;
}

async function runTracedAttempt(
  deps: IterateSessionDeps,
  req: IterateRequest,
  prompt: string,
  iteration: number,
  capture: boolean,
): Promise<{ result: AttemptResult; spanId: string | undefined }> {
  return tracer.startActiveSpan(`attempt ${iteration}`, async (span: Span) => {
    const spanContext = span.spanContext();
    const spanId = isSpanContextValid(spanContext) ? spanContext.spanId : undefined;
    span.setAttributes({
      [LH.ATTEMPT_ITERATION]: iteration,
      [LH.MODEL]: req.model,
      [LH.PROVIDER]: req.provider,
    });
    if (capture) span.setAttribute(LH.ATTEMPT_PROMPT, prompt);
    try {
      const result = await runAttempt(deps, req, prompt);
      span.setAttribute(LH.ATTEMPT_VERDICT, result.verdict);
      if (result.verdict !== 'accepted') span.setAttribute(LH.ATTEMPT_ERROR, result.error);
      if (capture && result.raw !== null) span.setAttribute(LH.ATTEMPT_RAW, result.raw);
      if (result.verdict === 'infra_error')
        span.setStatus({ code: SpanStatusCode.ERROR, message: result.error });
      return { result, spanId };
    } catch (err) {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'internal error' });
      throw err;
    } finally {
      span.end();
    }
  });
}

function answer(
  req: IterateRequest,
  traceId: string,
  verdict: FinalVerdict,
  history: HistoryEntry[],
  accepted: Extract<AttemptResult, { verdict: 'accepted' }> | undefined,
  last: AttemptResult | undefined,
): IterateOutcome {
  const iterations = history.length;
  if (verdict === 'accepted' && accepted !== undefined) {
    return {
      status: 200,
      body: {
        artifact: accepted.artifact,
        validation: accepted.report,
        iterations,
        history,
        trace_id: traceId,
      },
    };
  }
  if (verdict === 'infra_error') {
    const error = last?.verdict === 'infra_error' ? last.error : 'infrastructure error';
    if (last?.verdict === 'infra_error' && last.callerStatus !== undefined) {
      // chatd refused the request itself (unknown provider 404, bad model 400): the caller's
      // mistake, so 400 rather than 502, and no infra_error verdict in the body.
      const body: Record<string, unknown> = { error, iterations, history, trace_id: traceId };
      if (last.callerStatus === 404) body['field'] = 'provider';
      return { status: 400, body };
    }
    return {
      status: 502,
      body: { error, final_verdict: 'infra_error', iterations, history, trace_id: traceId },
    };
  }
  const lastError = last !== undefined && last.verdict !== 'accepted' ? `: ${last.error}` : '';
  return {
    status: 422,
    body: {
      error: `no acceptable ${req.kind} artifact after ${iterations} iterations${lastError}`,
      final_verdict: 'max_iter_exhausted',
      iterations,
      history,
      trace_id: traceId,
    },
  };
}
