import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import winston from 'winston';
import type { SessionLog, SessionLogEntry, SessionLogStats } from '@lakehouse/session-log';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { GatewayConfig } from '../src/config.js';
import type { RosterView } from '../src/validators/types.js';
import { testRoster } from './fixtures.js';

/** A SessionLog that records every emit. */
export class FakeSessionLog implements SessionLog {
  readonly enabled = true;
  readonly records: SessionLogEntry[] = [];
  emit(record: SessionLogEntry): void {
    this.records.push(structuredClone(record));
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
  stats(): SessionLogStats {
    const n = this.records.length;
    return { emitted: n, written: n, dropped: 0, failed: 0 };
  }
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A running gateway app on 127.0.0.1:0. */
export interface TestGateway {
  url: string;
  sessionLog: FakeSessionLog;
  close(): Promise<void>;
}

/** Starts `createApp` with a silent logger, the test roster and a fake session log. */
export async function startGateway(
  env: Record<string, string>,
  options: { roster?: RosterView; logger?: winston.Logger } = {},
): Promise<TestGateway> {
  const config: GatewayConfig = { ...loadConfig(env), readinessTimeoutMs: 500 };
  const sessionLog = new FakeSessionLog();
  const logger = options.logger ?? winston.createLogger({ silent: true });
  const app = createApp({ config, logger, roster: options.roster ?? testRoster(), sessionLog });
  const server = createServer(app);
  const url = await listen(server);
  return { url, sessionLog, close: () => closeServer(server) };
}
