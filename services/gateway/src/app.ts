import express from 'express';
import type { Express } from 'express';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'winston';
import type { SessionLog } from '@lakehouse/session-log';
import { metricsHandler, requestTelemetry, requestTrace } from '@lakehouse/telemetry';
import { selfUrl } from './config.js';
import type { GatewayConfig } from './config.js';
import { DrainGate } from './drain.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { MAX_EXTRACT_CHARS } from './extract-json.js';
import { createIterateInstruments } from './iterate-session.js';
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
  /** The SIGTERM drain (server.ts); without one, sessions are never refused. */
  drain?: DrainGate;
  /**
   * The validate hop's own loopback listener (server.ts): its base URL once bound, and whether a
   * request arrived through it. Without one the hop goes to GATEWAY_SELF_URL or the listener the
   * session's request arrived on.
   */
  validateListener?: ValidateListener;
}

/** See {@link AppDeps.validateListener}. */
export interface ValidateListener {
  url(): string | undefined;
  carries(req: IncomingMessage): boolean;
}

/** The validate route's path, the only one the hop listener serves. */
export const VALIDATE_PATH = '/v1/validate';

/**
 * Body limit of our own validate hop: the artifact's JSON text (at most MAX_EXTRACT_CHARS UTF-16
 * units, 3 bytes each at most) plus the contract, which the first chat request carried within
 * BODY_LIMIT_BYTES.
 */
function validateHopLimitBytes(bodyLimitBytes: number): number {
  return bodyLimitBytes + 3 * MAX_EXTRACT_CHARS + 1024;
}

const ROUTES = ['/v1/iterate', '/v1/validate', '/healthz', '/readyz', '/metrics'];

/** Builds the gateway's Express app (routes of SPEC §2). Does not listen; no I/O at call time. */
export function createApp(deps: AppDeps): Express {
  const { config, logger, roster, sessionLog } = deps;
  const drain = deps.drain ?? new DrainGate();
  const instruments = createIterateInstruments();

  const app = express();
  app.disable('x-powered-by');
  // First, so every response, errors included, carries X-Lakehouse-Trace-Id; it decides each
  // request's trace and records http.server.request.duration (no http/express instrumentation).
  app.use(requestTelemetry({ routes: ROUTES }));
  // The router decides what is a session route, for the drain gate too; before the body is read.
  app.post('/v1/iterate', drain.sessionGate());
  // Any content type is read as JSON: curl's default form type should not turn into "missing body".
  // Our own validate hop carries an artifact and the contract, so it gets a limit that covers both.
  const clientJson = express.json({ limit: config.bodyLimitBytes, type: () => true });
  const hopJson = express.json({
    limit: validateHopLimitBytes(config.bodyLimitBytes),
    type: () => true,
  });
  app.use((req, res, next) => {
    const ownHop =
      req.path === VALIDATE_PATH &&
      (deps.validateListener?.carries(req) === true || requestTrace(req).trusted);
    (ownHop ? hopJson : clientJson)(req, res, next);
  });

  app.post(
    '/v1/iterate',
    iterateRoute({
      hops: {
        chatdUrl: config.chatdUrl,
        chatTimeoutMs: config.chatTimeoutMs,
        validateTimeoutMs: config.validateTimeoutMs,
        chatBodyLimitBytes: config.bodyLimitBytes,
        abortSignal: drain.signal,
      },
      selfUrl: (localPort) =>
        deps.validateListener?.url() ?? selfUrl(config, localPort ?? config.port),
      logger,
      sessionLog,
      instruments,
      contentCapture: config.contentCapture,
      drain,
    }),
  );
  app.post(
    VALIDATE_PATH,
    validateRoute({
      roster,
      failures: instruments.validationFailures,
      contentCapture: config.contentCapture,
    }),
  );
  app.get('/healthz', healthzRoute());
  app.get(
    '/readyz',
    readyzRoute({
      roster,
      chatdUrl: config.chatdUrl,
      timeoutMs: config.readinessTimeoutMs,
      logger,
      draining: () => drain.draining,
    }),
  );
  app.get('/metrics', metricsHandler());
  app.use(notFoundHandler());
  app.use(errorHandler({ logger, bodyLimitBytes: config.bodyLimitBytes }));
  return app;
}
