import type { AddressInfo } from 'node:net';
import { metrics } from '@opentelemetry/api';
import { WorkerLookup } from '@lakehouse/roster';
import { createSessionLog } from '@lakehouse/session-log';
import { createLogger, getTelemetry } from '@lakehouse/telemetry';
import { createApp } from './app.js';
import { ConfigError, loadConfig, selfUrl } from './config.js';
import type { GatewayConfig } from './config.js';

async function main(): Promise<void> {
  let config: GatewayConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`gateway: invalid configuration: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
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

  const server = app.listen(config.port, config.host);
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
    logger.info('shutting down', { signal });
    // close() stops accepting and waits for in-flight requests; idle keep-alive sockets would hold it open.
    server.close(() => {
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
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(
    `gateway: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
