// The console's entry point: `npm run console`, and the third service of `npm start`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LangfuseConfigError, langfuseAuthorization } from '@lakehouse/langfuse-processor';
import { ConfigError } from '@lakehouse/telemetry';
import { createConsoleApp } from './app.js';
import { CONSOLE_USAGE, checkBindAddress, loopbackHosts, parseConsoleConfig } from './config.js';
import { SessionStore } from './session-store.js';
import { LangfuseApiSource } from './langfuse-trace-source.js';
import { TraceFileSource } from './trace-source.js';
import type { TraceSource } from './trace-source.js';

const log = (level: string, message: string, extra: Record<string, unknown> = {}): void => {
  process.stdout.write(`${JSON.stringify({ level, message, service: 'console', ...extra })}\n`);
};
const logger = { warn: (m: string) => log('warn', m), error: (m: string) => log('error', m) };

async function main(): Promise<void> {
  const config = parseConsoleConfig(process.argv.slice(2), process.env);
  if (config === 'help') {
    process.stdout.write(`${CONSOLE_USAGE}\n`);
    return;
  }
  await checkBindAddress(config.host, config.allowRemote);
  const store = await SessionStore.create({
    path: config.sessionsPath,
    memoryLimit: config.memoryLimit,
    logger,
  });
  const traces: TraceSource = config.langfuse
    ? new LangfuseApiSource({
        baseUrl: config.langfuse.baseUrl,
        authorization: langfuseAuthorization(config.langfuse.publicKey, config.langfuse.secretKey),
      })
    : new TraceFileSource(config.tracesPath);
  let allowedHosts: Set<string> | undefined;
  const app = createConsoleApp({
    store,
    traces,
    get allowedHosts() {
      return allowedHosts;
    },
    logger,
  });
  const server = http.createServer(app);
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host.replace(/^\[|\]$/g, ''), resolve);
  });
  const port = (server.address() as AddressInfo).port;
  if (!config.allowRemote) allowedHosts = loopbackHosts(config.host, port);
  const shown =
    config.host.includes(':') && !config.host.startsWith('[') ? `[${config.host}]` : config.host;
  log('info', 'listening', {
    port,
    url: `http://${shown}:${port}`,
    sessions: config.sessionsPath,
    // The full paths are for the operator's log only; pages and the API show base names.
    traces: config.langfuse ? traces.description : config.tracesPath,
  });
  void store.refresh();
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    server.closeAllConnections();
    server.close(() => {
      void Promise.all([store.close(), traces.close()]).finally(() => process.exit(0));
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// One format for every bad setting, the console's own or Langfuse's, as the services print theirs.
main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  const config = error instanceof ConfigError || error instanceof LangfuseConfigError;
  process.stderr.write(
    config
      ? `console: invalid configuration: ${message}\n${CONSOLE_USAGE}\n`
      : `console: ${message}\n`,
  );
  process.exit(2);
});
