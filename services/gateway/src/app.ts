import express from 'express';
import type { ErrorRequestHandler, Express } from 'express';
import { metrics } from '@opentelemetry/api';
import type { Logger } from 'winston';
import type { SessionLog } from '@lakehouse/session-log';
import { metricsHandler, resolveTraceId, traceIdResponseHeader } from '@lakehouse/telemetry';
import type { GatewayConfig } from './config.js';
import { HttpError } from './http-error.js';
import type { IterateInstruments } from './iterate.js';
import { healthzRoute, readyzRoute } from './routes/health.js';
import { iterateRoute } from './routes/iterate.js';
import { validateRoute } from './routes/validate.js';
import type { RosterView } from './validators/types.js';

/** What the gateway app is built from; `createApp` does no I/O with them until requests arrive. */
export interface AppDeps {
  config: GatewayConfig;
  logger: Logger;
  /** The worker roster (`WorkerLookup` from @lakehouse/roster). */
  roster: RosterView;
  sessionLog: SessionLog;
}

/** Builds the gateway's Express app (routes of SPEC §2). Does not listen; no I/O at call time. */
export function createApp(deps: AppDeps): Express {
  const meter = metrics.getMeter('gateway');
  const instruments: IterateInstruments = {
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

  const app = express();
  app.disable('x-powered-by');
  // First, so every response, errors included, carries X-Lakehouse-Trace-Id.
  app.use(traceIdResponseHeader());
  // Any content type is read as JSON: curl's default form type should not turn into "missing body".
  app.use(express.json({ limit: deps.config.bodyLimitBytes, type: () => true }));

  app.post('/v1/iterate', iterateRoute(deps, instruments));
  app.post('/v1/validate', validateRoute(deps, instruments.validationFailures));
  app.get('/healthz', healthzRoute());
  app.get('/readyz', readyzRoute(deps));
  app.get('/metrics', metricsHandler());
  app.use((req, _res, next) => {
    next(new HttpError(404, `no route ${req.method} ${req.path}`));
  });
  app.use(errorHandler(deps));
  return app;
}

interface BodyParserError {
  type?: unknown;
  status?: unknown;
  expose?: unknown;
  message?: unknown;
}

function errorHandler(deps: AppDeps): ErrorRequestHandler {
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
          error: `request body exceeds ${deps.config.bodyLimitBytes} bytes (BODY_LIMIT_BYTES)`,
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
      deps.logger.error('request failed', {
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
    res.status(status).json({ ...body, trace_id: traceId });
  };
}
