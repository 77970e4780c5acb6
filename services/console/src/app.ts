import { readFileSync } from 'node:fs';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DEFAULT_CONSOLE_LIMITS } from './console-limits.js';
import type { ConsoleLimits } from './console-limits.js';
import { escapeHtml } from './html.js';
import { OneAtATime } from './one-at-a-time.js';
import { overviewPage } from './overview-page.js';
import type { PageContext } from './page-layout.js';
import { sessionPage } from './session-page.js';
import { sessionsPage } from './sessions-page.js';
import { QueryParamError, parseSessionQuery } from './query-params.js';
import { overview } from './overview-query.js';
import { DEFAULT_PAGE_QUERY } from './session-filters.js';
import { listSessions } from './session-list.js';
import { loadSessionView } from './session-view.js';
import type { SessionStore } from './session-store.js';
import type { TraceSource } from './trace-source.js';

export interface ConsoleAppOptions {
  readonly store: SessionStore;
  readonly traces: TraceSource;
  /**
   * Host header values accepted (`host:port`); undefined accepts any. A loopback console
   * accepts only loopback names, so a page on another site cannot read it through DNS rebinding.
   */
  readonly allowedHosts?: ReadonlySet<string>;
  readonly logger?: { error(message: string): void };
  /** What one page may show or read (default {@link DEFAULT_CONSOLE_LIMITS}). */
  readonly limits?: Partial<ConsoleLimits>;
}

const MAX_SESSION_ID_LENGTH = 200;
const PUBLIC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../public');

// The page loads only its own scripts and styles; nothing inline, nothing from elsewhere.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
} as const;

interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

function loadAssets(): Map<string, Asset> {
  const require = createRequire(import.meta.url);
  // Chart.js from node_modules, served by the console itself: the page needs no network.
  const chartDir = path.dirname(require.resolve('chart.js'));
  return new Map<string, Asset>([
    [
      '/assets/chart.umd.min.js',
      {
        type: 'text/javascript; charset=utf-8',
        body: readFileSync(path.join(chartDir, 'chart.umd.min.js')),
      },
    ],
    [
      '/assets/console.js',
      {
        type: 'text/javascript; charset=utf-8',
        body: readFileSync(path.join(PUBLIC_DIR, 'console.js')),
      },
    ],
    [
      '/assets/console.css',
      { type: 'text/css; charset=utf-8', body: readFileSync(path.join(PUBLIC_DIR, 'console.css')) },
    ],
  ]);
}

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  head: boolean,
): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': type,
    'content-length': Buffer.byteLength(body),
  });
  res.end(head ? undefined : body);
}

const sendJson = (res: ServerResponse, status: number, value: unknown, head: boolean): void =>
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value), head);

function errorPage(status: number, message: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${status}</title><link rel="stylesheet" href="/assets/console.css"></head><body><main><h1>${status}</h1><p class="error-text" id="error">${escapeHtml(message)}</p><p><a href="/">overview</a> · <a href="/sessions">sessions</a></p></main></body></html>`;
}

/**
 * The console's request handler: GET and HEAD only, every page rendered from DuckDB queries over
 * the store (refreshed first, so a row appended a moment ago shows), trees from `traces`.
 */
export function createConsoleApp(options: ConsoleAppOptions): RequestListener {
  const { store, traces } = options;
  const limits = { ...DEFAULT_CONSOLE_LIMITS, ...options.limits };
  const heavy = new OneAtATime();
  const assets = loadAssets();
  const withConnection = async <T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> => {
    const connection = await store.connect();
    try {
      return await fn(connection);
    } finally {
      connection.closeSync();
    }
  };
  const context = async (c: DuckDBConnection): Promise<PageContext> => {
    const reader = await c.runAndReadAll('SELECT count(*) AS n FROM sessions');
    return {
      status: store.status(),
      rows: Number(reader.getRowObjectsJS()[0]?.['n'] ?? 0),
      traces: traces.description,
    };
  };

  const route = async (req: IncomingMessage, res: ServerResponse, head: boolean): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    const asset = assets.get(url.pathname);
    if (asset) {
      send(res, 200, asset.type, asset.body, head);
      return;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204, SECURITY_HEADERS).end();
      return;
    }
    if (url.pathname === '/healthz') {
      sendJson(res, 200, { status: 'ok', log: store.status() }, head);
      return;
    }
    const api = url.pathname.startsWith('/api/');
    // The JSON API mirrors the pages: /api/overview is /, /api/sessions… is /sessions….
    const pathname = api
      ? url.pathname === '/api/overview'
        ? '/'
        : url.pathname === '/api/'
          ? '/none'
          : url.pathname.slice('/api'.length)
      : url.pathname;
    const sessionMatch = /^\/sessions\/([^/]+)$/.exec(pathname);
    if (pathname !== '/' && pathname !== '/sessions' && !sessionMatch)
      throw new HttpError(404, `no page at ${url.pathname}`);
    await store.refresh();
    await withConnection(async (c) => {
      const ctx = await context(c);
      if (pathname === '/') {
        if ([...url.searchParams.keys()].length > 0)
          throw new QueryParamError('', 'the overview takes no parameters');
        const data = await overview(c);
        const recent = await listSessions(c, { ...DEFAULT_PAGE_QUERY, pageSize: 10 });
        if (api) sendJson(res, 200, { status: ctx.status, ...data }, head);
        else send(res, 200, 'text/html; charset=utf-8', overviewPage(ctx, data, recent.rows), head);
        return;
      }
      if (pathname === '/sessions') {
        const page = await listSessions(c, parseSessionQuery(url.searchParams));
        if (api) sendJson(res, 200, { status: ctx.status, ...page }, head);
        else send(res, 200, 'text/html; charset=utf-8', sessionsPage(ctx, page), head);
        return;
      }
      let sessionId: string;
      try {
        sessionId = decodeURIComponent(sessionMatch?.[1] ?? '');
      } catch {
        throw new HttpError(400, 'the session id in the path is not valid percent-encoding');
      }
      if (sessionId.length > MAX_SESSION_ID_LENGTH)
        throw new HttpError(400, `a session id is at most ${MAX_SESSION_ID_LENGTH} characters`);
      const view = await loadSessionView(c, { store, traces, heavy, limits }, sessionId);
      if (api) sendJson(res, 200, { status: ctx.status, ...view }, head);
      else send(res, 200, 'text/html; charset=utf-8', sessionPage(ctx, view), head);
    });
  };

  return (req, res) => {
    const head = req.method === 'HEAD';
    const wantsJson = (req.url ?? '').startsWith('/api/');
    const fail = (status: number, message: string): void => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (wantsJson) sendJson(res, status, { error: message }, head);
      else send(res, status, 'text/html; charset=utf-8', errorPage(status, message), head);
    };
    const allowedHosts = options.allowedHosts;
    if (allowedHosts !== undefined && !allowedHosts.has((req.headers.host ?? '').toLowerCase())) {
      fail(403, 'this console answers only on its loopback address (unexpected Host header)');
      return;
    }
    if (req.method !== 'GET' && !head) {
      res.setHeader('allow', 'GET, HEAD');
      fail(405, 'the console is read-only: GET and HEAD only');
      return;
    }
    route(req, res, head).catch((error: unknown) => {
      if (error instanceof QueryParamError) fail(400, error.message);
      else if (error instanceof HttpError) fail(error.status, error.message);
      else {
        options.logger?.error(
          `console: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
        fail(500, 'internal error (see the console log)');
      }
    });
  };
}
