import type { Request, RequestHandler, Response } from 'express';
import { contentCaptureEnabled, resolveTraceId } from '@lakehouse/telemetry';
import { selfUrl } from '../config.js';
import { HttpError } from '../http-error.js';
import { runIterateSession } from '../iterate.js';
import type { IterateInstruments } from '../iterate.js';
import { parseIterateRequest } from '../iterate-request.js';
import type { AppDeps } from '../app.js';

/** `POST /v1/iterate`: validates the request (400 before any session), then runs one session. */
export function iterateRoute(deps: AppDeps, instruments: IterateInstruments): RequestHandler {
  return async (req: Request, res: Response) => {
    const parsed = parseIterateRequest(req.body);
    if (!parsed.ok) throw new HttpError(400, parsed.error, { body: { field: parsed.field } });
    const traceId = resolveTraceId(req);
    const outcome = await runIterateSession(parsed.value, traceId, {
      chatdUrl: deps.config.chatdUrl,
      selfUrl: selfUrl(deps.config, req.socket.localPort ?? deps.config.port),
      chatTimeoutMs: deps.config.chatTimeoutMs,
      validateTimeoutMs: deps.config.validateTimeoutMs,
      logger: deps.logger,
      sessionLog: deps.sessionLog,
      instruments,
      contentCapture: contentCaptureEnabled(),
    });
    res.status(outcome.status).json(outcome.body);
  };
}
