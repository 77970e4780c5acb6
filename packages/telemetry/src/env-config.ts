// Typed readers for the services' environment. Each service parses its whole environment once,
// at start-up, with these; a bad value throws ConfigError naming the variable.

/** A bad environment variable; `variable` names it and the message says what is wrong. */
export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

/** An environment to read (`process.env` or a test's object). */
export type Env = Readonly<Record<string, string | undefined>>;

/** Winston's levels, accepted by `LOG_LEVEL` (any case). */
const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

const TRUE_VALUES = ['true', '1', 'on', 'yes'];
const FALSE_VALUES = ['false', '0', 'off', 'no'];

/** The trimmed value of `name`; unset and blank read as undefined. Never throws. */
export function readString(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** Bounds of a numeric variable, and its value when unset. */
interface NumberRange {
  fallback: number;
  min: number;
  max: number;
}

interface NumericKind {
  /** How the error names the wanted kind of value. */
  expected: string;
  parse(value: string): number | undefined;
}

const INTEGER: NumericKind = {
  expected: 'an integer',
  parse: (v) => (/^[0-9]+$/.test(v) ? Number(v) : undefined),
};

const NUMBER: NumericKind = {
  expected: 'a number',
  parse: (v) => (Number.isFinite(Number(v)) ? Number(v) : undefined),
};

/** A decimal integer in [min, max], or `unset` when the variable is unset. */
export function readInt(env: Env, name: string, unset: number, min: number, max: number): number {
  return readNumeric(env, name, { fallback: unset, min, max }, INTEGER);
}

/** A finite number in [min, max], or `unset` when the variable is unset. */
export function readNumber(env: Env, name: string, unset: number, min: number, max: number) {
  return readNumeric(env, name, { fallback: unset, min, max }, NUMBER);
}

function readNumeric(env: Env, name: string, range: NumberRange, kind: NumericKind): number {
  const value = readString(env, name);
  if (value === undefined) return range.fallback;
  const n = kind.parse(value);
  if (n === undefined) {
    throw new ConfigError(name, `expected ${kind.expected}, got ${JSON.stringify(value)}`);
  }
  if (!Number.isSafeInteger(Math.trunc(n)) || n < range.min || n > range.max) {
    throw new ConfigError(name, `must be between ${range.min} and ${range.max}, got ${value}`);
  }
  return n;
}

/** An http(s) URL without trailing slashes (paths are appended as `${base}/v1/…`), or undefined. */
export function readHttpUrl(env: Env, name: string): string | undefined {
  const value = readString(env, name);
  if (value === undefined) return undefined;
  if (!isHttpUrl(value)) {
    throw new ConfigError(name, `expected an http(s) URL, got ${JSON.stringify(value)}`);
  }
  return value.replace(/\/+$/, '');
}

/** True for an absolute http: or https: URL. */
export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** A switch: true/1/on/yes or false/0/off/no (any case), or `fallback` when unset. */
export function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const value = readString(env, name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (TRUE_VALUES.includes(value)) return true;
  if (FALSE_VALUES.includes(value)) return false;
  throw new ConfigError(
    name,
    `expected true or false (also 1/0, on/off, yes/no), got ${JSON.stringify(value)}`,
  );
}

/** `LOG_LEVEL`, lower-cased; default `info`. */
export function readLogLevel(env: Env): LogLevel {
  const value = readString(env, 'LOG_LEVEL')?.toLowerCase() ?? 'info';
  const level = LOG_LEVELS.find((l) => l === value);
  if (level === undefined) {
    throw new ConfigError(
      'LOG_LEVEL',
      `expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  return level;
}

/** `CONTENT_CAPTURE`: record prompts and completions on spans; default true. */
export function readContentCapture(env: Env): boolean {
  return readBoolean(env, 'CONTENT_CAPTURE', true);
}

/**
 * A {@link ConfigError}, or an error of another package shaped like one (a string `variable`
 * and the message `<variable>: <why>`, e.g. the Langfuse processor's, which cannot import this).
 */
function isConfigError(err: unknown): err is Error & { variable: string } {
  if (err instanceof ConfigError) return true;
  if (!(err instanceof Error)) return false;
  const variable: unknown = (err as Error & { variable?: unknown }).variable;
  return typeof variable === 'string' && err.message.startsWith(`${variable}: `);
}

/**
 * Runs `load` (a service's config parser) and returns its result. On a configuration error
 * ({@link ConfigError} or one shaped like it) it writes
 * `<service>: invalid configuration: <VARIABLE>: <why>` to stderr and exits 2; other errors
 * propagate.
 */
export function loadConfigOrExit<T>(service: string, load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (!isConfigError(err)) throw err;
    process.stderr.write(`${service}: invalid configuration: ${err.message}\n`);
    process.exit(2);
  }
}
