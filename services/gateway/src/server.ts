import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { metrics } from '@opentelemetry/api';
import { WorkerLookup } from '@lakehouse/roster';
import { createSessionLog } from '@lakehouse/session-log';
import { createBoundedServer, createLogger, getTelemetry } from '@lakehouse/telemetry';
import { createApp } from './app.js';
import { selfUrl } from './config.js';
import { DrainGate } from './drain.js';
import { STARTUP_CONFIG } from './startup-config.js';

// After the grace period's hops are aborted, sessions end within moments; a client that reads
// nothing could still hold its socket, so connections are cut this long after that.
const CUT_AFTER_ABORT_MS = 5_000;

async function main(): Promise<void> {
  const config = STARTUP_CONFIG;
  const logger = createLogger({ service: 'gateway', level: config.logLevel });
  // Never throws: a missing roster logs loudly and fails /readyz instead of crashing.
  const roster = await WorkerLookup.load(config.rosterPath, { logger });
  const sessionLog = createSessionLog({
    path: config.sessionLogPath,
    daemon: 'gateway',
    logger,
    meter: metrics.getMeter('gateway'),
  });
  const drain = new DrainGate();
  const app = createApp({ config, logger, roster, sessionLog, drain });

  // Draining (after SIGTERM): sessions in flight run to the end, and their validate hops still
  // need this listener, so it stays open until they are done. Meanwhile every response closes
  // its connection; the router refuses new sessions (DrainGate).
  const inFlight = new Set<ServerResponse>();
  const server = createBoundedServer(
    (req: IncomingMessage, res: ServerResponse) => {
      inFlight.add(res);
      res.once('close', () => inFlight.delete(res));
      if (drain.draining) res.setHeader('connection', 'close');
      app(req, res);
    },
    config.server,
    (limits) =>
      logger.warn('MAX_CONNECTIONS reached; closing new connections', {
        max_connections: limits.maxConnections,
      }),
  );
  server.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const displayHost = config.host.includes(':') ? `[${config.host}]` : config.host;
  // `npm start` and the tests learn the port from this line, so LOG_LEVEL=warn must not hide it.
  const line = {
    level: 'info',
    message: 'listening',
    service: 'gateway',
    port,
    url: `http://${displayHost}:${port}`,
    self_url: selfUrl(config, port),
    chatd_url: config.chatdUrl,
    roster_ready: roster.ready,
    session_log: sessionLog.enabled,
    timestamp: new Date().toISOString(),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal, sessions_in_flight: drain.sessionsInFlight });
    for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
    // Grace over: every running session's hops are aborted, so each ends infra_error, writes its
    // row and answers; the drain then goes idle and the listener closes.
    const grace = setTimeout(() => {
      logger.warn('shutdown grace period over; ending the sessions still running', {
        sessions_in_flight: drain.sessionsInFlight,
        shutdown_grace_ms: config.shutdownGraceMs,
      });
      drain.abortSessions();
      const cut = setTimeout(() => {
        closeListener();
        server.closeAllConnections();
      }, CUT_AFTER_ABORT_MS);
      cut.unref();
    }, config.shutdownGraceMs);
    grace.unref();
    let closing = false;
    // close() stops accepting and waits for open connections; idle keep-alive sockets would
    // hold it open, and busy ones close after their response (connection: close above).
    const closeListener = (): void => {
      if (closing) return;
      closing = true;
      server.close(() => {
        clearTimeout(grace);
        void (async () => {
          try {
            // Every session that began has emitted its row before the log is flushed.
            await Promise.race([drain.idle(), delay(CUT_AFTER_ABORT_MS)]);
            await sessionLog.shutdown();
            await getTelemetry()?.shutdown();
          } catch (err) {
            logger.warn('shutdown incomplete', {
              error: err instanceof Error ? err.message : String(err),
            });
          }
          process.exit(0);
        })();
      });
      server.closeIdleConnections();
    };
    drain.startDraining(closeListener);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(
    `gateway: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
