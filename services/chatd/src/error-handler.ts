import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'winston';
import { defaultMask } from '@lakehouse/langfuse-processor';
import { boundText } from '@lakehouse/telemetry';
import { HttpError, redact } from './errors.js';

/** Options for {@link errorHandler}. */
export interface ErrorHandlerOptions {
  logger: Logger;
  bodyLimitBytes: number;
  /** Values scrubbed from every error body (the configured API keys), as a last line of defence. */
  secrets: readonly string[];
}

/** 404 `{error}` for any route not matched before it. */
export function notFoundHandler(): RequestHandler {
  return (req) => {
    throw new HttpError(404, `no route for ${req.method} ${boundText(req.path, 200)}`);
  };
}

/**
 * The single error boundary: {@link HttpError} → its status and message; body-parser errors →
 * 400/413/415; anything else → 500 with a generic body (details only in the log).
 */
export function errorHandler(options: ErrorHandlerOptions): ErrorRequestHandler {
  const { logger, bodyLimitBytes, secrets } = options;
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    let status = 500;
    let message = 'internal server error';
    if (err instanceof HttpError) {
      status = err.status;
      message = err.message;
    } else if (isBodyParserError(err)) {
      status = err.status;
      if (err.type === 'entity.too.large') {
        message = `request body exceeds ${bodyLimitBytes} bytes (BODY_LIMIT_BYTES)`;
      } else if (err.type === 'entity.parse.failed') {
        message = `invalid JSON body: ${err.message}`;
      } else {
        message = err.message;
      }
    }
    // Every error text leaves masked: body-parser and JSON errors quote the client's bytes.
    message = boundText(defaultMask(redact(message, secrets)), 1000);

    const meta = { method: req.method, path: req.path, status };
    if (status >= 500 && !(err instanceof HttpError)) {
      logger.error('unhandled error', {
        ...meta,
        error: redact(String((err as Error)?.stack ?? err), secrets),
      });
    } else if (status >= 500) {
      logger.warn(message, meta);
    }
    res.status(status).json({ error: message });
  };
}

interface BodyParserError extends Error {
  status: number;
  type: string;
  expose: boolean;
}

function isBodyParserError(err: unknown): err is BodyParserError {
  if (!(err instanceof Error)) return false;
  const e = err as Partial<BodyParserError>;
  return (
    typeof e.type === 'string' &&
    typeof e.status === 'number' &&
    e.status >= 400 &&
    e.status < 500 &&
    e.expose === true
  );
}
