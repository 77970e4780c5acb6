import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultMask } from '@lakehouse/langfuse-processor';
import { WorkerLookup } from '@lakehouse/roster';
import { createBoundedServer, createLogger, getTelemetry } from '@lakehouse/telemetry';
import { createApp } from './app.js';
import { SIM_PROVIDER_NAME } from './config.js';
import { STARTUP_CONFIG as config } from './startup-config.js';

// In-flight requests get this long after SIGTERM before their sockets are cut.
const SHUTDOWN_GRACE_MS = 10_000;

const logger = createLogger({ service: 'chatd', level: config.logLevel, maskErrors: defaultMask });
const roster = await WorkerLookup.load(config.rosterPath, { logger });
const app = createApp({ config, logger, roster });

// The gateway's hops (their signature verifies) are not counted against MAX_CONNECTIONS.
const server = createBoundedServer(app, config.server, {
  onFirstDrop: (limits) =>
    logger.warn('MAX_CONNECTIONS reached; closing connections', {
      max_connections: limits.maxConnections,
      max_connections_per_peer: limits.maxConnectionsPerPeer,
    }),
});
const onListenError = (err: Error): void => {
  logger.error('listen failed', { error: err.message, host: config.host, port: config.port });
  process.exit(1);
};
server.once('error', onListenError);
server.listen(config.port, config.host, () => {
  server.removeListener('error', onListenError);
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  // Written directly, not through the logger: `npm start` and the e2e harness wait for this
  // line, so LOG_LEVEL=warn must not hide it.
  const line = {
    level: 'info',
    message: 'listening',
    service: 'chatd',
    port,
    url: `http://${host}:${port}`,
    roster_ready: roster.ready,
    providers: [SIM_PROVIDER_NAME, ...config.providers.map((p) => p.name)],
    timestamp: new Date().toISOString(),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
});

// Responses still being produced at shutdown must close their keep-alive socket when done,
// or server.close() would wait for the client's idle timeout.
const inFlight = new Set<ServerResponse>();
server.on('request', (_req, res: ServerResponse) => {
  inFlight.add(res);
  res.once('close', () => inFlight.delete(res));
});

let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  logger.info('shutting down', { signal, in_flight: inFlight.size });
  for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
  const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
  force.unref();
  server.close(() => {
    clearTimeout(force);
    void (async () => {
      try {
        await getTelemetry()?.shutdown();
      } catch (err) {
        logger.warn('telemetry shutdown failed', { error: (err as Error).message });
      }
      process.exit(0);
    })();
  });
  // Keep-alive sockets with no request in flight would hold close() open.
  server.closeIdleConnections();
}

process.once('SIGTERM', () => shutdown('SIGTERM'));
process.once('SIGINT', () => shutdown('SIGINT'));
