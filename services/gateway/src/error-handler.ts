import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'winston';
import { defaultMask } from '@lakehouse/langfuse-processor';
import { boundText, resolveTraceId } from '@lakehouse/telemetry';
import { HttpError } from './http-error.js';

/** Options for {@link errorHandler}. */
export interface ErrorHandlerOptions {
  logger: Logger;
  bodyLimitBytes: number;
}

/** 404 `{error}` for any route not matched before it. */
export function notFoundHandler(): RequestHandler {
  return (req) => {
    throw new HttpError(404, `no route ${req.method} ${boundText(req.path, 200)}`);
  };
}

interface BodyParserError {
  type?: unknown;
  status?: unknown;
  expose?: unknown;
  message?: unknown;
}

/**
 * The single error boundary: {@link HttpError} → its status and body; body-parser errors →
 * 400/413/4xx naming `body`; anything else → 500 `internal error` (details only in the log).
 * Every error body carries `trace_id`.
 */
export function errorHandler(options: ErrorHandlerOptions): ErrorRequestHandler {
  // Four parameters: Express recognises error handlers by their arity.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  return (err: unknown, req, res, _next) => {
    const traceId =
      typeof res.locals['traceId'] === 'string' ? res.locals['traceId'] : resolveTraceId(req);
    let status = 500;
    let body: Record<string, unknown> = { error: 'internal error' };
    if (err instanceof HttpError) {
      status = err.status;
      body = { error: err.message, ...err.body };
    } else {
      const e = (typeof err === 'object' && err !== null ? err : {}) as BodyParserError;
      if (e.type === 'entity.too.large') {
        status = 413;
        body = {
          error: `request body exceeds ${options.bodyLimitBytes} bytes (BODY_LIMIT_BYTES)`,
          field: 'body',
        };
      } else if (e.type === 'entity.parse.failed') {
        status = 400;
        body = { error: 'request body is not valid JSON', field: 'body' };
      } else if (
        typeof e.status === 'number' &&
        e.status >= 400 &&
        e.status < 500 &&
        e.expose === true
      ) {
        // Other body-parser refusals (bad charset, aborted upload): the client's problem, said plainly.
        status = e.status;
        body = { error: typeof e.message === 'string' ? e.message : 'bad request', field: 'body' };
      }
    }
    if (status >= 500) {
      options.logger.error('request failed', {
        trace_id: traceId,
        method: req.method,
        path: req.path,
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      });
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    // Every error text leaves masked (a body-parser message quotes the client's bytes).
    if (typeof body['error'] === 'string') body['error'] = defaultMask(body['error']);
    res.status(status).json({ ...body, trace_id: traceId });
  };
}
