import { lookup } from 'node:dns/promises';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { resolveLangfuseConfig } from '@lakehouse/langfuse-processor';
import { ConfigError, readBoolean, readInt, readString } from '@lakehouse/telemetry';
import type { Env } from '@lakehouse/telemetry';
import { DEFAULT_MEMORY_LIMIT } from './session-store.js';

const DEFAULT_CONSOLE_PORT = 4130;

/** The console's settings, resolved once at start-up: flag → environment → default. */
export interface ConsoleConfig {
  readonly host: string;
  readonly port: number;
  readonly allowRemote: boolean;
  readonly sessionsPath: string;
  readonly tracesPath: string;
  /** DuckDB's memory limit (`CONSOLE_MEMORY_LIMIT`). */
  readonly memoryLimit: string;
  readonly langfuse:
    | { readonly baseUrl: string; readonly publicKey: string; readonly secretKey: string }
    | undefined;
}

export const CONSOLE_USAGE = `usage: npm run console [-- options]
  --sessions FILE   session log (default $SESSION_LOG_PATH or data/sessions.jsonl)
  --traces FILE     offline trace file (default $LANGFUSE_TRACE_FILE or data/traces.jsonl);
                    with LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY set, trees come from Langfuse
                    at LANGFUSE_BASE_URL (or LANGFUSE_HOST; default https://cloud.langfuse.com)
  --port N          port (default $PORT or ${DEFAULT_CONSOLE_PORT}; 0 = any free port)
  --host ADDR       address to bind (default $CONSOLE_HOST or 127.0.0.1)
  --allow-remote    allow an address beyond loopback (or CONSOLE_ALLOW_REMOTE=true); the console
                    has no authentication, so anyone who reaches it reads every prompt in the log
  CONSOLE_MEMORY_LIMIT  DuckDB's memory limit (default ${DEFAULT_MEMORY_LIMIT}); past it a query fails`;

// DuckDB's size syntax: 512MB, 2GB, 1.5GiB …
const SIZE = /^\d+(?:\.\d+)?\s*(?:[KMGT]i?B|B)$/i;

/**
 * Parses argv and env with the services' readers: a bad flag or variable throws telemetry's
 * ConfigError naming it; Langfuse's variables follow the services' own rules (the processor's
 * resolveLangfuseConfig: LANGFUSE_HOST as a fallback, URLs checked, keys both or neither) and
 * throw LangfuseConfigError naming the variable.
 */
export function parseConsoleConfig(argv: readonly string[], env: Env): ConsoleConfig | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        sessions: { type: 'string' },
        traces: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'allow-remote': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (error) {
    throw new ConfigError('argv', error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';
  // A flag is read with the same reader as its variable, named as the flag.
  const port =
    values.port !== undefined
      ? readInt({ '--port': values.port }, '--port', DEFAULT_CONSOLE_PORT, 0, 65535)
      : readInt(env, 'PORT', DEFAULT_CONSOLE_PORT, 0, 65535);
  const allowRemote = readBoolean(env, 'CONSOLE_ALLOW_REMOTE', false) || values['allow-remote'];
  const memoryLimit = readString(env, 'CONSOLE_MEMORY_LIMIT') ?? DEFAULT_MEMORY_LIMIT;
  if (!SIZE.test(memoryLimit))
    throw new ConfigError(
      'CONSOLE_MEMORY_LIMIT',
      `expected a size such as 512MB or 2GB, got ${JSON.stringify(memoryLimit)}`,
    );
  const langfuse = resolveLangfuseConfig({ env });
  return {
    host: values.host ?? readString(env, 'CONSOLE_HOST') ?? '127.0.0.1',
    port,
    allowRemote,
    sessionsPath: path.resolve(
      values.sessions ?? readString(env, 'SESSION_LOG_PATH') ?? 'data/sessions.jsonl',
    ),
    tracesPath: path.resolve(
      values.traces ?? readString(env, 'LANGFUSE_TRACE_FILE') ?? 'data/traces.jsonl',
    ),
    memoryLimit,
    langfuse:
      langfuse.publicKey !== undefined && langfuse.secretKey !== undefined
        ? {
            baseUrl: langfuse.baseUrl,
            publicKey: langfuse.publicKey,
            secretKey: langfuse.secretKey,
          }
        : undefined,
  };
}

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopbackAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').toLowerCase();
  if (net.isIPv4(bare)) return bare.startsWith('127.');
  if (!net.isIPv6(bare)) return false;
  if (bare === '::1') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  return mapped !== null && (mapped[1] ?? '').startsWith('127.');
}

/**
 * Refuses a bind address beyond loopback unless `allowRemote`: a name counts as loopback only
 * when every address it resolves to is. Throws ConfigError naming `--host`.
 */
export async function checkBindAddress(host: string, allowRemote: boolean): Promise<void> {
  if (allowRemote) return;
  const bare = host.replace(/^\[|\]$/g, '');
  const addresses = net.isIP(bare)
    ? [bare]
    : (await lookup(bare, { all: true })).map((a) => a.address);
  const outside = addresses.filter((a) => !isLoopbackAddress(a));
  if (addresses.length === 0 || outside.length > 0) {
    throw new ConfigError(
      '--host',
      `refusing to bind ${host}${outside.length > 0 && outside[0] !== bare ? ` (${outside.join(', ')})` : ''}: it is beyond loopback and the console has no authentication; pass --allow-remote (or CONSOLE_ALLOW_REMOTE=true) to do it anyway`,
    );
  }
}

/** The Host header values a loopback console answers to. */
export function loopbackHosts(host: string, port: number): Set<string> {
  const names = [
    '127.0.0.1',
    'localhost',
    '[::1]',
    host.includes(':') && !host.startsWith('[') ? `[${host}]` : host,
  ];
  return new Set(names.map((n) => `${n.toLowerCase()}:${port}`));
}
