import { sessionLogPathProblem } from '@lakehouse/session-log';
import {
  ConfigError,
  readContentCapture,
  readHttpUrl,
  readInt,
  readLogLevel,
  readServerLimits,
  readString,
  DEFAULT_SERVER_LIMITS,
} from '@lakehouse/telemetry';
import type { Env, LogLevel, ServerLimits } from '@lakehouse/telemetry';

/** Validated gateway settings (docs/architecture.md, Environment). */
export interface GatewayConfig {
  port: number;
  host: string;
  chatdUrl: string;
  /** Loopback base URL for the validate hop; undefined = `http://127.0.0.1:{bound port}`. */
  gatewaySelfUrl: string | undefined;
  chatTimeoutMs: number;
  validateTimeoutMs: number;
  rosterPath: string;
  /** Empty string = session log disabled. */
  sessionLogPath: string;
  bodyLimitBytes: number;
  logLevel: LogLevel;
  /** Record prompts, raw replies, requests and artifacts on spans (`CONTENT_CAPTURE`). */
  contentCapture: boolean;
  /** Timeout of the chatd probe behind `/readyz`. */
  readinessTimeoutMs: number;
  /** Request/headers timeouts and the connection cap of the listener. */
  server: ServerLimits;
  /** How long sessions may run on after SIGTERM before their hops are aborted (`SHUTDOWN_GRACE_MS`). */
  shutdownGraceMs: number;
}

/** Default settings, used for every variable that is unset or empty. */
export const DEFAULT_CONFIG: Readonly<GatewayConfig> = {
  port: 4110,
  host: '127.0.0.1',
  chatdUrl: 'http://127.0.0.1:4120',
  gatewaySelfUrl: undefined,
  chatTimeoutMs: 240_000,
  validateTimeoutMs: 240_000,
  rosterPath: 'data/roster.parquet',
  sessionLogPath: '',
  bodyLimitBytes: 1_048_576,
  logLevel: 'info',
  contentCapture: true,
  readinessTimeoutMs: 2_000,
  server: DEFAULT_SERVER_LIMITS,
  // Below the 30 s a container runtime usually waits between SIGTERM and SIGKILL.
  shutdownGraceMs: 20_000,
};

/** Reads and validates the gateway's environment. Throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): GatewayConfig {
  return {
    port: readInt(env, 'PORT', DEFAULT_CONFIG.port, 0, 65_535),
    host: readString(env, 'HOST') ?? DEFAULT_CONFIG.host,
    chatdUrl: readHttpUrl(env, 'CHATD_URL') ?? DEFAULT_CONFIG.chatdUrl,
    gatewaySelfUrl: readHttpUrl(env, 'GATEWAY_SELF_URL'),
    chatTimeoutMs: readInt(env, 'CHAT_TIMEOUT_MS', DEFAULT_CONFIG.chatTimeoutMs, 1, 3_600_000),
    validateTimeoutMs: readInt(
      env,
      'VALIDATE_TIMEOUT_MS',
      DEFAULT_CONFIG.validateTimeoutMs,
      1,
      3_600_000,
    ),
    rosterPath: readString(env, 'ROSTER_PATH') ?? DEFAULT_CONFIG.rosterPath,
    sessionLogPath: readSessionLogPath(env),
    bodyLimitBytes: readInt(env, 'BODY_LIMIT_BYTES', DEFAULT_CONFIG.bodyLimitBytes, 1, 1 << 30),
    logLevel: readLogLevel(env),
    contentCapture: readContentCapture(env),
    readinessTimeoutMs: DEFAULT_CONFIG.readinessTimeoutMs,
    server: readServerLimits(env),
    shutdownGraceMs: readInt(
      env,
      'SHUTDOWN_GRACE_MS',
      DEFAULT_CONFIG.shutdownGraceMs,
      0,
      3_600_000,
    ),
  };
}

// A FIFO (with no reader it would block the writer), a directory or a device is refused here.
function readSessionLogPath(env: Env): string {
  const path = readString(env, 'SESSION_LOG_PATH') ?? '';
  const problem = path === '' ? undefined : sessionLogPathProblem(path);
  if (problem !== undefined) throw new ConfigError('SESSION_LOG_PATH', problem);
  return path;
}

/** The validate hop's base URL: GATEWAY_SELF_URL, else the loopback address of the bound port. */
export function selfUrl(config: GatewayConfig, boundPort: number): string {
  if (config.gatewaySelfUrl !== undefined) return config.gatewaySelfUrl;
  const host = config.host;
  // A wildcard or loopback bind is reachable on 127.0.0.1; a specific address only on itself.
  if (host === '0.0.0.0' || host === '::' || host === 'localhost' || host.startsWith('127.')) {
    return `http://127.0.0.1:${boundPort}`;
  }
  return host.includes(':') ? `http://[${host}]:${boundPort}` : `http://${host}:${boundPort}`;
}
