import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'winston';
import type { SessionLog } from '@lakehouse/session-log';
import { requestTrace } from '@lakehouse/telemetry';
import { chatHopBody, HopClient } from '../hop-client.js';
import type { HopClientOptions } from '../hop-client.js';
import type { DrainGate } from '../drain.js';
import { HttpError } from '../http-error.js';
import { parseIterateRequest } from '../iterate-request.js';
import { buildInitialPrompt } from '../prompt.js';
import type { IterateRequest } from '../iterate-request.js';
import { runIterateSession } from '../iterate-session.js';
import type { IterateInstruments } from '../iterate-session.js';
import type { IterateResult } from '../iterate-types.js';

/** What the `POST /v1/iterate` handler needs. */
export interface IterateRouteOptions {
  hops: Omit<HopClientOptions, 'selfUrl'>;
  /** The validate hop's base URL for a request that arrived on `localPort`. */
  selfUrl: (localPort: number | undefined) => string;
  logger: Logger;
  sessionLog: SessionLog;
  instruments: IterateInstruments;
  contentCapture: boolean;
  /** Counts the session until it has ended, not only until its client hung up. */
  drain: DrainGate;
}

/** `POST /v1/iterate`: validates the request (400 before any session), then runs one session. */
export function iterateRoute(options: IterateRouteOptions): RequestHandler {
  return async (req: Request, res: Response) => {
    const parsed = parseIterateRequest(req.body);
    if (!parsed.ok) throw new HttpError(400, parsed.error, { body: { field: parsed.field } });
    const request = parsed.value;
    // The first chat hop carries prompt, system and contract, JSON-escaped: a body that fits the
    // gateway's limit may not fit chatd's. Refused before any session begins.
    const limit = options.hops.chatBodyLimitBytes;
    const first = Buffer.byteLength(
      chatHopBody(request, buildInitialPrompt(request.prompt, request.kind, request.context)),
    );
    if (first > limit) {
      throw new HttpError(
        413,
        `the chat request built from prompt, system and context (${first} bytes) exceeds BODY_LIMIT_BYTES (${limit})`,
        { body: { field: 'body' } },
      );
    }
    const trace = requestTrace(req);
    const hops = new HopClient({ ...options.hops, selfUrl: options.selfUrl(req.socket.localPort) });
    let ended = false;
    res.once('close', () => {
      if (!ended && options.logger.isInfoEnabled())
        options.logger.info('client went away before its session ended; the session runs on', {
          trace_id: trace.traceId,
        });
    });
    const result = await options.drain.hold(
      res,
      runIterateSession(parsed.value, trace, {
        hops,
        logger: options.logger,
        sessionLog: options.sessionLog,
        instruments: options.instruments,
        contentCapture: options.contentCapture,
      }),
    );
    ended = true;
    const { status, body } = iterateResponse(parsed.value, result);
    res.status(status).json({ ...body, trace_id: trace.traceId });
  };
}

/** The HTTP answer of a finished session (SPEC §2); the caller adds `trace_id`. */
function iterateResponse(
  req: IterateRequest,
  result: IterateResult,
): { status: number; body: Record<string, unknown> } {
  const iterations = result.attempts.length;
  const history = result.attempts.map((a) => ({
    iteration: a.iteration,
    raw: a.raw,
    ...(a.rawTruncatedChars !== undefined ? { raw_truncated_chars: a.rawTruncatedChars } : {}),
    status: a.verdict,
    ...(a.error !== undefined ? { error: a.error } : {}),
  }));
  const lastError = result.attempts.at(-1)?.error;
  switch (result.finalVerdict) {
    case 'accepted': {
      const accepted = result.accepted;
      return {
        status: 200,
        body: {
          artifact: accepted?.artifact,
          validation: accepted?.report,
          iterations,
          history,
        },
      };
    }
    case 'infra_error': {
      const error = lastError ?? 'infrastructure error';
      if (result.callerStatus !== undefined) {
        // chatd refused the request itself (unknown provider 404, bad model 400): the caller's
        // mistake, so 400 rather than 502, and no infra_error verdict in the body.
        const body: Record<string, unknown> = { error, iterations, history };
        if (result.callerStatus === 404) body['field'] = 'provider';
        return { status: 400, body };
      }
      return { status: 502, body: { error, final_verdict: 'infra_error', iterations, history } };
    }
    case 'max_iter_exhausted':
      return {
        status: 422,
        body: {
          error: `no acceptable ${req.kind} artifact after ${iterations} iterations${lastError !== undefined ? `: ${lastError}` : ''}`,
          final_verdict: 'max_iter_exhausted',
          iterations,
          history,
        },
      };
  }
}
