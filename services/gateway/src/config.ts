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
  logLevel: string;
  /** Timeout of the chatd probe behind `/readyz`. */
  readinessTimeoutMs: number;
}

/** A bad environment variable; `variable` names it and the message says what is wrong. */
export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
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
  readinessTimeoutMs: 2_000,
};

const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'];

type Env = Readonly<Record<string, string | undefined>>;

function read(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const value = raw.trim();
  return value === '' ? undefined : value;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = read(env, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value))
    throw new ConfigError(name, `must be an integer, got ${JSON.stringify(value)}`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  }
  return n;
}

function url(env: Env, name: string, fallback: string | undefined): string | undefined {
  const value = read(env, name);
  if (value === undefined) return fallback;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(name, `must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(name, `must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  // Paths are appended as `${base}/v1/...`; a trailing slash would double up.
  return value.replace(/\/+$/, '');
}

/** Reads and validates the gateway's environment. Throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): GatewayConfig {
  const logLevel = (read(env, 'LOG_LEVEL') ?? DEFAULT_CONFIG.logLevel).toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(
      'LOG_LEVEL',
      `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`,
    );
  }
  return {
    port: int(env, 'PORT', DEFAULT_CONFIG.port, 0, 65_535),
    host: read(env, 'HOST') ?? DEFAULT_CONFIG.host,
    chatdUrl: url(env, 'CHATD_URL', DEFAULT_CONFIG.chatdUrl) ?? DEFAULT_CONFIG.chatdUrl,
    gatewaySelfUrl: url(env, 'GATEWAY_SELF_URL', undefined),
    chatTimeoutMs: int(env, 'CHAT_TIMEOUT_MS', DEFAULT_CONFIG.chatTimeoutMs, 1, 3_600_000),
    validateTimeoutMs: int(
      env,
      'VALIDATE_TIMEOUT_MS',
      DEFAULT_CONFIG.validateTimeoutMs,
      1,
      3_600_000,
    ),
    rosterPath: read(env, 'ROSTER_PATH') ?? DEFAULT_CONFIG.rosterPath,
    sessionLogPath: read(env, 'SESSION_LOG_PATH') ?? '',
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', DEFAULT_CONFIG.bodyLimitBytes, 1, 1 << 30),
    logLevel,
    readinessTimeoutMs: DEFAULT_CONFIG.readinessTimeoutMs,
  };
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
