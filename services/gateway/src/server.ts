import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metrics } from '@opentelemetry/api';
import { WorkerLookup } from '@lakehouse/roster';
import { createSessionLog } from '@lakehouse/session-log';
import {
  createLogger,
  getTelemetry,
  resolveTraceId,
  TRACE_ID_RESPONSE_HEADER,
} from '@lakehouse/telemetry';
import { createApp } from './app.js';
import { selfUrl } from './config.js';
import { STARTUP_CONFIG } from './startup-config.js';

// Sessions still running at SIGTERM get this long to finish before their sockets are cut
// (below the 30 s a container runtime usually waits before SIGKILL).
const SHUTDOWN_GRACE_MS = 20_000;

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
  const app = createApp({ config, logger, roster, sessionLog });

  // Draining (after SIGTERM): sessions in flight run to the end, and their validate hops still
  // need this listener, so it stays open until they are done. Meanwhile every response closes
  // its connection, and new sessions are refused with 503 before they begin (no row, no trace).
  let draining = false;
  let sessionsInFlight = 0;
  let onSessionsDone: (() => void) | undefined;
  const inFlight = new Set<ServerResponse>();
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
    if (!draining) {
      if (req.method === 'POST' && req.url?.split('?')[0] === '/v1/iterate') {
        sessionsInFlight += 1;
        res.once('close', () => {
          sessionsInFlight -= 1;
          if (sessionsInFlight === 0) onSessionsDone?.();
        });
      }
      app(req, res);
      return;
    }
    res.setHeader('connection', 'close');
    const path = req.url?.split('?')[0];
    if ((req.method === 'POST' && path === '/v1/iterate') || path === '/readyz') {
      req.resume();
      res.setHeader(TRACE_ID_RESPONSE_HEADER, resolveTraceId(req));
      res.setHeader('retry-after', '1');
      res.writeHead(503, { 'content-type': 'application/json; charset=utf-8' });
      res.end(
        JSON.stringify(
          path === '/readyz'
            ? { status: 'not ready', reasons: ['shutting down'] }
            : {
                error: 'gateway is shutting down; retry on another instance',
                trace_id: resolveTraceId(req),
              },
        ),
      );
      return;
    }
    app(req, res);
  });
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
    draining = true;
    logger.info('shutting down', { signal, sessions_in_flight: sessionsInFlight });
    for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
    const force = setTimeout(() => {
      logger.warn('shutdown grace period over; cutting connections', {
        sessions_in_flight: sessionsInFlight,
      });
      closeListener();
      server.closeAllConnections();
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    let closing = false;
    // close() stops accepting and waits for open connections; idle keep-alive sockets would
    // hold it open, and busy ones close after their response (connection: close above).
    const closeListener = (): void => {
      if (closing) return;
      closing = true;
      server.close(() => {
        clearTimeout(force);
        void (async () => {
          try {
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
    if (sessionsInFlight === 0) closeListener();
    else onSessionsDone = closeListener;
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
