import express from 'express';
import type { Logger } from 'winston';
import type { WorkerLookup } from '@lakehouse/roster';
import { metricsHandler, requestTelemetry } from '@lakehouse/telemetry';
import { createChatInstruments } from './call-provider.js';
import type { ChatdConfig } from './config.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { createProviderRegistry } from './providers/provider-registry.js';
import type { ProviderRegistry } from './providers/provider-registry.js';
import { UpstreamByteBudget } from './providers/upstream-budget.js';
import { chatRoute } from './routes/chat.js';
import { healthRoute, readyRoute } from './routes/health.js';
import { providersRoute } from './routes/providers.js';

/** Everything {@link createApp} needs; the caller owns the roster's lifetime. */
export interface ChatdDeps {
  config: ChatdConfig;
  logger: Logger;
  roster: WorkerLookup;
  /** Overrides the providers built from `config` (tests inject stubs here). */
  providers?: ProviderRegistry;
  /** The upstream byte budget the built providers share (default: one of `config`'s size). */
  upstreamBudget?: UpstreamByteBudget;
}

const ROUTES = ['/v1/chat', '/v1/providers', '/healthz', '/readyz', '/metrics'];

/** Builds chatd's Express app. No I/O and no listening; instruments come from the global meter. */
export function createApp(deps: ChatdDeps): express.Express {
  const { config, logger, roster } = deps;
  const budget = deps.upstreamBudget ?? new UpstreamByteBudget(config.upstreamBytesInFlight);
  const providers = deps.providers ?? createProviderRegistry(config, roster, budget);
  const secrets = config.providers.flatMap((p) => (p.apiKey === undefined ? [] : [p.apiKey]));

  const app = express();
  app.disable('x-powered-by');
  // First: every response carries X-Lakehouse-Trace-Id; decides each request's trace (a parent is
  // trusted only with the gateway's hop signature) and records http.server.request.duration.
  app.use(requestTelemetry({ routes: ROUTES }));
  app.use(express.json({ limit: config.bodyLimitBytes }));

  app.get('/healthz', healthRoute());
  app.get('/readyz', readyRoute(roster));
  app.get('/metrics', metricsHandler());
  app.get('/v1/providers', providersRoute(providers));
  app.post(
    '/v1/chat',
    chatRoute({
      providers,
      instruments: createChatInstruments(),
      timeoutMs: config.providerTimeoutMs,
      captureContent: config.contentCapture,
      logger,
      secrets,
    }),
  );

  app.use(notFoundHandler());
  app.use(errorHandler({ logger, bodyLimitBytes: config.bodyLimitBytes, secrets }));
  return app;
}
