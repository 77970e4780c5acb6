import { lookup } from 'node:dns/promises';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';

export const DEFAULT_CONSOLE_PORT = 4130;

/** The console's settings, resolved once at start-up: flag → environment → default. */
export interface ConsoleConfig {
  readonly host: string;
  readonly port: number;
  readonly allowRemote: boolean;
  readonly sessionsPath: string;
  readonly tracesPath: string;
  readonly langfuse:
    | { readonly baseUrl: string; readonly publicKey: string; readonly secretKey: string }
    | undefined;
}

/** A setting the console refuses; the message names it. */
export class ConsoleConfigError extends Error {
  override readonly name = 'ConsoleConfigError';
}

export const CONSOLE_USAGE = `usage: npm run console [-- options]
  --sessions FILE   session log (default $SESSION_LOG_PATH or data/sessions.jsonl)
  --traces FILE     offline trace file (default $LANGFUSE_TRACE_FILE or data/traces.jsonl);
                    with LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY set, trees come from Langfuse
  --port N          port (default $PORT or ${DEFAULT_CONSOLE_PORT}; 0 = any free port)
  --host ADDR       address to bind (default $CONSOLE_HOST or 127.0.0.1)
  --allow-remote    allow an address beyond loopback (or CONSOLE_ALLOW_REMOTE=true); the console
                    has no authentication, so anyone who reaches it reads every prompt in the log`;

/** Parses argv and env. Throws ConsoleConfigError naming the bad flag or variable. */
export function parseConsoleConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): ConsoleConfig | 'help' {
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
    throw new ConsoleConfigError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';
  const portText = values.port ?? (env['PORT'] || String(DEFAULT_CONSOLE_PORT));
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535)
    throw new ConsoleConfigError(
      `${values.port !== undefined ? '--port' : 'PORT'} must be a port number 0..65535, got "${portText}"`,
    );
  const remote = env['CONSOLE_ALLOW_REMOTE'] ?? '';
  if (!['', 'true', 'false'].includes(remote))
    throw new ConsoleConfigError(`CONSOLE_ALLOW_REMOTE must be true or false, got "${remote}"`);
  const publicKey = env['LANGFUSE_PUBLIC_KEY'] ?? '';
  const secretKey = env['LANGFUSE_SECRET_KEY'] ?? '';
  if ((publicKey === '') !== (secretKey === ''))
    throw new ConsoleConfigError(
      `LANGFUSE_${publicKey === '' ? 'PUBLIC' : 'SECRET'}_KEY is missing (set both Langfuse keys or neither)`,
    );
  return {
    host: values.host ?? (env['CONSOLE_HOST'] || '127.0.0.1'),
    port,
    allowRemote: values['allow-remote'] || remote === 'true',
    sessionsPath: path.resolve(
      values.sessions ?? (env['SESSION_LOG_PATH'] || 'data/sessions.jsonl'),
    ),
    tracesPath: path.resolve(values.traces ?? (env['LANGFUSE_TRACE_FILE'] || 'data/traces.jsonl')),
    langfuse:
      publicKey !== ''
        ? {
            baseUrl: env['LANGFUSE_BASE_URL'] || 'https://cloud.langfuse.com',
            publicKey,
            secretKey,
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
 * when every address it resolves to is. Throws ConsoleConfigError.
 */
export async function checkBindAddress(host: string, allowRemote: boolean): Promise<void> {
  if (allowRemote) return;
  const bare = host.replace(/^\[|\]$/g, '');
  const addresses = net.isIP(bare)
    ? [bare]
    : (await lookup(bare, { all: true })).map((a) => a.address);
  const outside = addresses.filter((a) => !isLoopbackAddress(a));
  if (addresses.length === 0 || outside.length > 0) {
    throw new ConsoleConfigError(
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
