import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { metrics } from '@opentelemetry/api';
import { defaultMask } from '@lakehouse/langfuse-processor';
import { WorkerLookup } from '@lakehouse/roster';
import { createSessionLog } from '@lakehouse/session-log';
import { createBoundedServer, createLogger, getTelemetry } from '@lakehouse/telemetry';
import type { ServerLimits } from '@lakehouse/telemetry';
import { createApp, VALIDATE_PATH } from './app.js';
import { selfUrl } from './config.js';
import { DrainGate } from './drain.js';
import { STARTUP_CONFIG } from './startup-config.js';

// After the grace period's hops are aborted, sessions end within moments; a client that reads
// nothing could still hold its socket, so connections are cut this long after that.
const CUT_AFTER_ABORT_MS = 5_000;

async function main(): Promise<void> {
  const config = STARTUP_CONFIG;
  const logger = createLogger({ service: 'gateway', level: config.logLevel, maskErrors: defaultMask });
  // Never throws: a missing roster logs loudly and fails /readyz instead of crashing.
  const roster = await WorkerLookup.load(config.rosterPath, { logger });
  const sessionLog = createSessionLog({
    path: config.sessionLogPath,
    daemon: 'gateway',
    logger,
    meter: metrics.getMeter('gateway'),
  });
  const drain = new DrainGate();
  // The validate hop has a loopback listener of its own (unless GATEWAY_SELF_URL points it
  // elsewhere): clients holding every MAX_CONNECTIONS slot of the public one cannot starve it.
  const hopRequests = new WeakSet<IncomingMessage>();
  let hopUrl: string | undefined;
  const validateListener = {
    url: () => hopUrl,
    carries: (req: IncomingMessage) => hopRequests.has(req),
  };
  const app = createApp({ config, logger, roster, sessionLog, drain, validateListener });

  // Draining (after SIGTERM): sessions in flight run to the end, and their validate hops still
  // need a listener, so both stay open until they are done. Meanwhile every response closes
  // its connection; the router refuses new sessions (DrainGate).
  const inFlight = new Set<ServerResponse>();
  const onFirstDrop = (limits: ServerLimits): void => {
    logger.warn('MAX_CONNECTIONS reached; closing connections', {
      max_connections: limits.maxConnections,
      max_connections_per_peer: limits.maxConnectionsPerPeer,
    });
  };
  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
    if (drain.draining) res.setHeader('connection', 'close');
    app(req, res);
  };
  const server = createBoundedServer(serve, config.server, { onFirstDrop });
  const hopServer =
    config.gatewaySelfUrl === undefined
      ? createBoundedServer(
          (req, res) => {
            // Only the hop's own request; anything else reaching this port is not served here.
            if (req.method !== 'POST' || req.url !== VALIDATE_PATH) {
              res
                .writeHead(404, { 'content-type': 'application/json' })
                .end('{"error":"not found"}');
              return;
            }
            hopRequests.add(req);
            serve(req, res);
          },
          config.server,
          { onFirstDrop },
        )
      : undefined;
  const listening = (target: Server, port: number, host: string): Promise<number> => {
    target.listen(port, host);
    return new Promise<number>((resolve, reject) => {
      target.once('listening', () => resolve((target.address() as AddressInfo).port));
      target.once('error', reject);
    });
  };
  const port = await listening(server, config.port, config.host);
  if (hopServer !== undefined) {
    const loopback = config.host === '::1' ? '::1' : '127.0.0.1';
    const hopPort = await listening(hopServer, 0, loopback);
    hopUrl = `http://${loopback === '::1' ? '[::1]' : loopback}:${hopPort}`;
  }
  const displayHost = config.host.includes(':') ? `[${config.host}]` : config.host;
  // `npm start` and the tests learn the port from this line, so LOG_LEVEL=warn must not hide it.
  const line = {
    level: 'info',
    message: 'listening',
    service: 'gateway',
    port,
    url: `http://${displayHost}:${port}`,
    self_url: hopUrl ?? selfUrl(config, port),
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
        hopServer?.closeAllConnections();
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
      // Idle now: no session is left to need the validate hop.
      hopServer?.close();
      hopServer?.closeIdleConnections();
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
