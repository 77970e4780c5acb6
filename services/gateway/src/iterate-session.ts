import { performance } from 'node:perf_hooks';
import { metrics, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, Context, Counter, Histogram, Meter, Span } from '@opentelemetry/api';
import type { Logger } from 'winston';
import { LAKEHOUSE_ATTRIBUTES as LH } from '@lakehouse/langfuse-processor';
import {
  captureLimit,
  captureText,
  jsonStringPrefix,
  startSpan,
  withSpan,
} from '@lakehouse/telemetry';
import type { RequestTrace } from '@lakehouse/telemetry';
import type { SessionLog } from '@lakehouse/session-log';
import { runAttempt } from './attempt.js';
import type { HopClient } from './hop-client.js';
import { iterate } from './iterate.js';
import type { IterateRequest } from './iterate-request.js';
import type { AttemptOutcome, IterateResult } from './iterate-types.js';

/** The gateway's iterate instruments, created once per app. */
export interface IterateInstruments {
  sessions: Counter;
  attempts: Histogram;
  validationFailures: Counter;
}

/** Creates the iterate instruments on `meter` (default: the global `gateway` meter). */
export function createIterateInstruments(
  meter: Meter = metrics.getMeter('gateway'),
): IterateInstruments {
  return {
    sessions: meter.createCounter('lakehouse.iterate.sessions', {
      description: 'Iterate sessions by final verdict and kind',
    }),
    attempts: meter.createHistogram('lakehouse.iterate.attempts', {
      description: 'Attempts spent per iterate session',
      advice: { explicitBucketBoundaries: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] },
    }),
    validationFailures: meter.createCounter('lakehouse.validation.failures', {
      description: 'Validation errors by category and kind',
    }),
  };
}

/** What one session needs besides the request. */
export interface IterateSessionDeps {
  hops: HopClient;
  logger: Logger;
  sessionLog: SessionLog;
  instruments: IterateInstruments;
  /** Record prompts, raw replies, requests and artifacts on spans. */
  contentCapture: boolean;
}

const tracer = trace.getTracer('gateway');

/**
 * Runs one session ({@link iterate}) with its side effects: the iterate and attempt spans, the
 * session metrics, exactly one session-log record and one log line, whatever happens. Rejects
 * with the error of a crashed session after recording it (the caller answers 500).
 */
export async function runIterateSession(
  req: IterateRequest,
  request: RequestTrace,
  deps: IterateSessionDeps,
): Promise<IterateResult> {
  const started = performance.now();
  const attributes: Attributes = {
    [LH.SESSION_ROOT]: true,
    [LH.TRACE_ID_SOURCE]: request.source,
    [LH.KIND]: req.kind,
    [LH.MODEL]: req.model,
    [LH.PROVIDER]: req.provider,
    [LH.MAX_ITERATIONS]: req.maxIterations,
  };
  if (deps.contentCapture) Object.assign(attributes, requestForTrace(req));

  // Explicit context: the request's (a caller's parent or the seeded trace id), then the span's.
  const span = startSpan(tracer, `iterate ${req.kind}`, { attributes }, request.context);
  const sessionContext = withSpan(request.context, span);
  const result = await iterate(req, (prompt, iteration) =>
    tracedAttempt(deps, req, prompt, iteration, sessionContext),
  );
  endSessionSpan(span, result, req, deps.contentCapture);
  record(deps, req, request.traceId, result, Math.round(performance.now() - started));
  if (result.crash !== undefined) throw result.crash;
  return result;
}

/** `grounded_in_roster` of the row and span: fill sessions that were accepted only. */
function groundedInRoster(req: IterateRequest, result: IterateResult): boolean | null {
  return req.kind === 'fill' && result.accepted !== undefined
    ? result.accepted.report.grounded_in_roster
    : null;
}

function endSessionSpan(
  span: Span,
  result: IterateResult,
  req: IterateRequest,
  contentCapture: boolean,
): void {
  const grounded = groundedInRoster(req, result);
  span.setAttribute(LH.FINAL_VERDICT, result.finalVerdict);
  span.setAttribute(LH.ITERATIONS, result.attempts.length);
  if (grounded !== null) span.setAttribute(LH.GROUNDED_IN_ROSTER, grounded);
  if (result.accepted !== undefined && contentCapture) {
    // The JSON the model wrote, as it was extracted (not encoded again); the translator splices
    // it, so past the attribute limit it goes as a JSON string of its beginning.
    span.setAttribute(LH.ARTIFACT, wholeJson(result.accepted.artifactJson));
  }
  if (result.crash !== undefined) {
    span.recordException(result.crash instanceof Error ? result.crash : String(result.crash));
  }
  if (result.finalVerdict === 'infra_error') {
    const last = result.attempts.at(-1);
    const message =
      result.crash === undefined ? (contentCapture ? last?.error : last?.summary) : undefined;
    span.setStatus({ code: SpanStatusCode.ERROR, message: message ?? 'internal error' });
  }
  span.end();
}

function record(
  deps: IterateSessionDeps,
  req: IterateRequest,
  traceId: string,
  result: IterateResult,
  durationMs: number,
): void {
  const { finalVerdict, attempts } = result;
  // A request chatd or the provider refused as invalid is the caller's error (HTTP 400): the row
  // keeps infra_error (the schema has three verdicts), the metric does not count it as infra.
  const verdictLabel = result.callerStatus !== undefined ? 'rejected' : finalVerdict;
  deps.instruments.sessions.add(1, { final_verdict: verdictLabel, kind: req.kind });
  deps.instruments.attempts.record(attempts.length, { kind: req.kind });
  try {
    deps.sessionLog.emit({
      sessionId: traceId,
      kind: req.kind,
      model: req.model,
      provider: req.provider,
      prompt: req.prompt,
      iterations: attempts.length,
      maxIterations: req.maxIterations,
      finalVerdict,
      attempts: attempts.map((a) => ({
        iteration: a.iteration,
        verdictKind: a.verdict,
        ...(a.error !== undefined ? { error: a.error } : {}),
        ...(a.spanId !== undefined ? { spanId: a.spanId } : {}),
      })),
      ...(result.accepted !== undefined
        ? { artifact: result.accepted.artifact, artifactJson: result.accepted.artifactJson }
        : {}),
      groundedInRoster: groundedInRoster(req, result),
      durationMs,
    });
  } catch (err) {
    // The session log is best effort (SPEC §5): a failing sink never fails the request.
    deps.logger.warn('session log emit failed', {
      error: err instanceof Error ? err.message : String(err),
    });
  }
  // Winston formats a line before its level filter drops it: skip the work when info is off.
  if (deps.logger.isInfoEnabled())
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

// JSON the translator splices into a bigger JSON value: past the attribute limit the SDK would
// cut it anywhere, so it goes as a JSON string of its beginning that fits instead.
function wholeJson(json: string): string {
  return json.length <= captureLimit() ? json : jsonStringPrefix(json, captureLimit());
}

// The request's content as it is, cut to what an attribute keeps: the translator masks each text
// once and encodes the request JSON itself (nothing is encoded here only to be parsed back).
function requestForTrace(req: IterateRequest): Attributes {
  const context = JSON.stringify(req.context);
  const out: Attributes = {
    [LH.PROMPT]: captureText(req.prompt),
    // Spliced into the request JSON by the translator, so it must stay whole JSON.
    [LH.CONTEXT]: wholeJson(context),
    [LH.TEMPERATURE]: req.temperature,
    [LH.MAX_TOKENS]: req.maxTokens,
  };
  if (req.system !== undefined) out[LH.SYSTEM] = captureText(req.system);
  return out;
}

async function tracedAttempt(
  deps: IterateSessionDeps,
  req: IterateRequest,
  prompt: string,
  iteration: number,
  parent: Context,
): Promise<{ outcome: AttemptOutcome; spanId: string | undefined }> {
  const span = startSpan(
    tracer,
    `attempt ${iteration}`,
    {
      attributes: {
        [LH.ATTEMPT_ITERATION]: iteration,
        [LH.MODEL]: req.model,
        [LH.PROVIDER]: req.provider,
      },
    },
    parent,
  );
  // The row names only spans that are exported (tracing off or unsampled: no span id).
  const spanId = span.isRecording() ? span.spanContext().spanId : undefined;
  if (deps.contentCapture) span.setAttribute(LH.ATTEMPT_PROMPT, prompt);
  try {
    // Both hops carry this attempt as their W3C parent (signed): the callees' spans nest under it.
    const outcome = await runAttempt(deps.hops, req, prompt, withSpan(parent, span));
    span.setAttribute(LH.ATTEMPT_VERDICT, outcome.verdict);
    // Error texts quote model output (candidate ids) and upstream bodies: capture off keeps
    // only their content-free summary.
    const error =
      outcome.verdict === 'accepted'
        ? undefined
        : deps.contentCapture
          ? outcome.error
          : outcome.summary;
    if (error !== undefined) span.setAttribute(LH.ATTEMPT_ERROR, error);
    if (deps.contentCapture && outcome.raw !== null) span.setAttribute(LH.ATTEMPT_RAW, outcome.raw);
    if (outcome.verdict === 'infra_error') {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error ?? 'infra error' });
    }
    return { outcome, spanId };
  } catch (err) {
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'internal error' });
    throw err;
  } finally {
    span.end();
  }
}
