import { defaultMask } from '@lakehouse/langfuse-processor';
import {
  ConfigError,
  isHttpUrl,
  readContentCapture,
  readInt,
  readLogLevel,
  readNumber,
  readServerLimits,
  readString,
} from '@lakehouse/telemetry';
import type { Env, LogLevel, ServerLimits } from '@lakehouse/telemetry';

/** Provider types chatd can talk to besides the built-in `sim`. */
const PROVIDER_TYPES = ['openai', 'ollama'] as const;

/** A configured upstream provider type. */
type ProviderType = (typeof PROVIDER_TYPES)[number];

/** Behaviours selected by the model name (docs/architecture.md "sim modes"); others use the rate. */
export const SIM_MODES = [
  'clean',
  'phantom-once',
  'phantom-always',
  'prose-once',
  'prose-always',
] as const;

/** Name of the always-present offline simulator provider. */
export const SIM_PROVIDER_NAME = 'sim';

/** Ollama's well-known local address, used when an `ollama` entry gives no `base_url`. */
const DEFAULT_OLLAMA_BASE_URL = 'http://127.0.0.1:11434';

/**
 * One entry of `PROVIDERS`, validated. `apiKey` is resolved from `api_key_env` at start-up;
 * it must never be logged or returned to clients.
 */
export interface ProviderConfig {
  name: string;
  type: ProviderType;
  baseUrl: string;
  apiKeyEnv?: string;
  apiKey?: string;
  timeoutMs?: number;
  maxRetries?: number;
}

/** chatd's validated configuration (see docs/architecture.md "Environment"). */
export interface ChatdConfig {
  port: number;
  host: string;
  rosterPath: string;
  bodyLimitBytes: number;
  providerTimeoutMs: number;
  providers: readonly ProviderConfig[];
  simPhantomRate: number;
  simLatencyMs: number;
  logLevel: LogLevel;
  /** Record prompts and completions on spans (`CONTENT_CAPTURE`). */
  contentCapture: boolean;
  /** Request/headers timeouts and the connection cap of the listener. */
  server: ServerLimits;
}

/** Defaults applied by {@link loadConfig} when a variable is unset or empty. */
const CHATD_DEFAULTS = {
  port: 4120,
  host: '127.0.0.1',
  rosterPath: 'data/roster.parquet',
  bodyLimitBytes: 1_048_576,
  providerTimeoutMs: 120_000,
  simPhantomRate: 0.3,
  simLatencyMs: 0,
  contentCapture: true,
} as const;

const PROVIDER_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Reads and validates chatd's environment. Pure apart from reading `env`.
 * Throws {@link ConfigError} naming the variable on the first bad value.
 */
export function loadConfig(env: Env = process.env): ChatdConfig {
  return {
    port: readInt(env, 'PORT', CHATD_DEFAULTS.port, 0, 65_535),
    host: readString(env, 'HOST') ?? CHATD_DEFAULTS.host,
    rosterPath: readString(env, 'ROSTER_PATH') ?? CHATD_DEFAULTS.rosterPath,
    bodyLimitBytes: readInt(env, 'BODY_LIMIT_BYTES', CHATD_DEFAULTS.bodyLimitBytes, 1, 2 ** 31),
    providerTimeoutMs: readInt(
      env,
      'PROVIDER_TIMEOUT_MS',
      CHATD_DEFAULTS.providerTimeoutMs,
      1,
      2 ** 31 - 1,
    ),
    providers: parseProviders(env),
    simPhantomRate: readNumber(env, 'SIM_PHANTOM_RATE', CHATD_DEFAULTS.simPhantomRate, 0, 1),
    simLatencyMs: readInt(env, 'SIM_LATENCY_MS', CHATD_DEFAULTS.simLatencyMs, 0, 2 ** 31 - 1),
    logLevel: readLogLevel(env),
    contentCapture: readContentCapture(env),
    server: readServerLimits(env),
  };
}

function parseProviders(env: Env): ProviderConfig[] {
  const v = readString(env, 'PROVIDERS');
  if (v === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch (err) {
    throw new ConfigError(
      'PROVIDERS',
      // JSON.parse quotes a slice of the input, which may hold a credentialed base_url.
      `not valid JSON (${defaultMask(err instanceof Error ? err.message : String(err))}); expected ` +
        `[{"name":"…","type":"openai"|"ollama","base_url":"…","api_key_env":"…"}]`,
    );
  }
  if (!Array.isArray(parsed)) throw new ConfigError('PROVIDERS', 'expected a JSON array');
  const seen = new Set<string>([SIM_PROVIDER_NAME]);
  return parsed.map((entry: unknown, i) => {
    const where = `PROVIDERS[${i}]`;
    const p = parseProvider(env, entry, where);
    if (seen.has(p.name)) {
      throw new ConfigError(
        `${where}.name`,
        p.name === SIM_PROVIDER_NAME
          ? `"${SIM_PROVIDER_NAME}" is reserved for the built-in simulator`
          : `duplicate provider name "${p.name}"`,
      );
    }
    seen.add(p.name);
    return p;
  });
}

function parseProvider(env: Env, entry: unknown, where: string): ProviderConfig {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new ConfigError(where, 'expected an object');
  }
  const e = entry as Record<string, unknown>;
  const known = ['name', 'type', 'base_url', 'api_key_env', 'timeout_ms', 'max_retries'];
  for (const key of Object.keys(e)) {
    if (!known.includes(key)) {
      throw new ConfigError(`${where}.${key}`, `unknown field; allowed: ${known.join(', ')}`);
    }
  }

  const name = e['name'];
  if (typeof name !== 'string' || !PROVIDER_NAME_RE.test(name)) {
    throw new ConfigError(`${where}.name`, 'required: a name of letters, digits, ".", "_" or "-"');
  }
  const type = e['type'];
  if (typeof type !== 'string' || !(PROVIDER_TYPES as readonly string[]).includes(type)) {
    throw new ConfigError(`${where}.type`, `required: one of ${PROVIDER_TYPES.join(', ')}`);
  }
  const providerType = type as ProviderType;

  let baseUrl = e['base_url'];
  if (baseUrl === undefined && providerType === 'ollama') baseUrl = DEFAULT_OLLAMA_BASE_URL;
  if (typeof baseUrl !== 'string' || !isHttpUrl(baseUrl)) {
    throw new ConfigError(`${where}.base_url`, 'required: an http(s) URL');
  }

  const credentials = credentialsIn(baseUrl);
  if (credentials !== undefined) {
    // The value itself is never echoed: it holds a secret.
    throw new ConfigError(
      `${where}.base_url`,
      `must not carry credentials (${credentials}); put the key in an environment variable named by api_key_env`,
    );
  }

  const config: ProviderConfig = { name, type: providerType, baseUrl: baseUrl.replace(/\/+$/, '') };

  const keyEnv = e['api_key_env'];
  if (keyEnv !== undefined) {
    if (typeof keyEnv !== 'string' || !ENV_NAME_RE.test(keyEnv)) {
      throw new ConfigError(`${where}.api_key_env`, 'expected an environment variable name');
    }
    const key = readString(env, keyEnv);
    if (key === undefined) {
      throw new ConfigError(
        keyEnv,
        `environment variable is not set (named by ${where}.api_key_env for provider "${name}")`,
      );
    }
    config.apiKeyEnv = keyEnv;
    config.apiKey = key;
  }

  const timeout = e['timeout_ms'];
  if (timeout !== undefined) {
    if (!Number.isSafeInteger(timeout) || (timeout as number) <= 0) {
      throw new ConfigError(`${where}.timeout_ms`, 'expected a positive integer');
    }
    config.timeoutMs = timeout as number;
  }
  const retries = e['max_retries'];
  if (retries !== undefined) {
    if (!Number.isSafeInteger(retries) || (retries as number) < 0 || (retries as number) > 10) {
      throw new ConfigError(`${where}.max_retries`, 'expected an integer 0..10');
    }
    config.maxRetries = retries as number;
  }
  return config;
}
// The only query parameter a base URL may carry (Azure OpenAI's API version), and its shape.
const ALLOWED_QUERY = new Map([['api-version', /^[0-9A-Za-z.-]{1,32}$/]]);

/**
 * Why a base URL could carry a credential, or undefined: an allow-list, since names and spellings
 * of key parameters are endless (`?api_key%20=`, `?api_key[]=`, `#api_key=`). No user part (Node's
 * fetch refuses it anyway), no fragment, no query but `api-version`, no key shape in the path.
 */
function credentialsIn(s: string): string | undefined {
  const u = new URL(s);
  if (u.username !== '' || u.password !== '') return 'a user:password part';
  if (s.includes('#')) return 'a fragment';
  for (const [name, value] of u.searchParams) {
    const shape = ALLOWED_QUERY.get(name);
    if (shape === undefined || !shape.test(value))
      return `a query part (only ${[...ALLOWED_QUERY.keys()].join(', ')} is allowed)`;
  }
  if (u.search === '' && s.includes('?')) return 'a query part';
  if (defaultMask(decodeURIComponentSafe(u.pathname)) !== decodeURIComponentSafe(u.pathname))
    return 'a key in the path';
  return undefined;
}

function decodeURIComponentSafe(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
