import http from 'node:http';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { diag, metrics } from '@opentelemetry/api';
import { readInt } from './env-config.js';
import type { Env } from './env-config.js';
import { TELEMETRY_SCOPE } from './rejection-counter.js';

/** How long a client may take to send a request, and how many sockets it may hold. */
export interface ServerLimits {
  /** Time to receive all request headers (`HEADERS_TIMEOUT_MS`); past it: 408 and close. */
  headersTimeoutMs: number;
  /** Time to receive the whole request, body included (`REQUEST_TIMEOUT_MS`); past it: 408 and close. */
  requestTimeoutMs: number;
  /** Idle time a keep-alive socket is kept between requests (`KEEP_ALIVE_TIMEOUT_MS`). */
  keepAliveTimeoutMs: number;
  /** Open sockets accepted at once (`MAX_CONNECTIONS`); further ones are closed on arrival. */
  maxConnections: number;
}

/** Defaults of {@link readServerLimits}. Responses are not bounded here (sessions may be long). */
export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1024,
});

/** Counter of connections refused past `MAX_CONNECTIONS` (Prometheus: `…_total`). */
export const CONNECTIONS_DROPPED_METRIC = 'lakehouse.http.connections_dropped';

/** Reads the four limits of {@link ServerLimits}; throws ConfigError naming a bad variable. */
export function readServerLimits(env: Env): ServerLimits {
  const d = DEFAULT_SERVER_LIMITS;
  const headersTimeoutMs = readInt(env, 'HEADERS_TIMEOUT_MS', d.headersTimeoutMs, 100, 600_000);
  return {
    headersTimeoutMs,
    // Node requires requestTimeout >= headersTimeout.
    requestTimeoutMs: readInt(
      env,
      'REQUEST_TIMEOUT_MS',
      d.requestTimeoutMs,
      headersTimeoutMs,
      3_600_000,
    ),
    keepAliveTimeoutMs: readInt(env, 'KEEP_ALIVE_TIMEOUT_MS', d.keepAliveTimeoutMs, 1, 600_000),
    maxConnections: readInt(env, 'MAX_CONNECTIONS', d.maxConnections, 1, 1_000_000),
  };
}

/**
 * An http.Server with the limits applied: slow or stalled uploads (a body dribbled a byte at a
 * time) are answered 408 and closed once the headers or request timeout passes (checked every
 * second, not Node's default 30 s), and sockets past `maxConnections` are closed on arrival,
 * counted in {@link CONNECTIONS_DROPPED_METRIC} and logged once through `onFirstDrop`.
 * Responses themselves are not timed: a session may legitimately run for minutes.
 */
export function createBoundedServer(
  listener: RequestListener<typeof IncomingMessage, typeof ServerResponse>,
  limits: ServerLimits,
  onFirstDrop: (limits: ServerLimits) => void = () =>
    diag.warn(
      `@lakehouse/telemetry: MAX_CONNECTIONS (${limits.maxConnections}) reached; closing new connections`,
    ),
): http.Server {
  const server = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
    },
    listener,
  );
  server.maxConnections = limits.maxConnections;
  const droppedCounter = metrics
    .getMeter(TELEMETRY_SCOPE)
    .createCounter(CONNECTIONS_DROPPED_METRIC, {
      description: 'Connections closed on arrival past MAX_CONNECTIONS',
    });
  let dropped = 0;
  server.on('drop', () => {
    dropped += 1;
    if (dropped === 1) onFirstDrop(limits);
    droppedCounter.add(1);
  });
  return server;
}
