// Shared test helpers: an OTLP/HTTP JSON receiver, a fixture-app runner, a raw HTTP client.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer, request } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';

// Works from dist/test (compiled) and from test/ (tsx); the fixtures import ../../dist/src either way.
export const FIXTURES_DIR = fileURLToPath(
  new URL(
    import.meta.url.includes('/dist/test/') ? '../../test/fixtures/' : './fixtures/',
    import.meta.url,
  ),
);

export interface OtlpReceiver {
  readonly url: string;
  readonly bodies: Map<string, unknown[]>;
  close(): Promise<void>;
}

/** A local OTLP/HTTP receiver accepting JSON on /v1/{traces,metrics,logs}. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const bodies = new Map<string, unknown[]>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '';
      try {
        const list = bodies.get(path) ?? [];
        list.push(JSON.parse(text));
        bodies.set(path, list);
      } catch {
        bodies.set(`${path}#unparsed`, [...(bodies.get(`${path}#unparsed`) ?? []), text]);
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}

type KeyValue = { key: string; value: Record<string, unknown> };

function attrs(list: KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) out[kv.key] = Object.values(kv.value)[0];
  return out;
}

function hexId(id: unknown): string {
  if (typeof id !== 'string') return '';
  return /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
}

/** Flattens every span the receiver got. */
export function receivedSpans(receiver: OtlpReceiver): OtlpSpan[] {
  const spans: OtlpSpan[] = [];
  for (const body of receiver.bodies.get('/v1/traces') ?? []) {
    const b = body as {
      resourceSpans?: {
        resource?: { attributes?: KeyValue[] };
        scopeSpans?: { spans?: Record<string, unknown>[] }[];
      }[];
    };
    for (const rs of b.resourceSpans ?? []) {
      const resource = attrs(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          spans.push({
            traceId: hexId(s['traceId']),
            spanId: hexId(s['spanId']),
            parentSpanId: s['parentSpanId'] ? hexId(s['parentSpanId']) : undefined,
            name: String(s['name']),
            kind: Number(s['kind']),
            attributes: attrs(s['attributes'] as KeyValue[] | undefined),
            resource,
          });
        }
      }
    }
  }
  return spans;
}

export interface OtlpLog {
  body: unknown;
  traceId: string;
  scope: string;
}

/** Flattens every log record the receiver got. */
export function receivedLogs(receiver: OtlpReceiver): OtlpLog[] {
  const logs: OtlpLog[] = [];
  for (const body of receiver.bodies.get('/v1/logs') ?? []) {
    const b = body as {
      resourceLogs?: {
        scopeLogs?: { scope?: { name?: string }; logRecords?: Record<string, unknown>[] }[];
      }[];
    };
    for (const rl of b.resourceLogs ?? []) {
      for (const sl of rl.scopeLogs ?? []) {
        for (const r of sl.logRecords ?? []) {
          const bodyValue = r['body'] as Record<string, unknown> | undefined;
          logs.push({
            body: bodyValue === undefined ? undefined : Object.values(bodyValue)[0],
            traceId: hexId(r['traceId']),
            scope: sl.scope?.name ?? '',
          });
        }
      }
    }
  }
  return logs;
}

/** Polls until `check` returns a value or the deadline passes. */
export async function waitFor<T>(check: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('waitFor: timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface FixtureApp {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  readonly stdoutLines: string[];
  stop(): Promise<void>;
}

/** Spawns `node --import ./instrument.mjs app.mjs` in the fixtures dir and waits for its port. */
export async function startFixtureApp(env: NodeJS.ProcessEnv): Promise<FixtureApp> {
  const cleanEnv: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('OTEL_') && k !== 'NODE_OPTIONS' && k !== 'NODE_TEST_CONTEXT')
      cleanEnv[k] = v;
  }
  const child = spawn(process.execPath, ['--import', './instrument.mjs', 'app.mjs'], {
    cwd: FIXTURES_DIR,
    env: { ...cleanEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdoutLines: string[] = [];
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  let buffered = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fixture did not start: ${stderr}`)), 10000);
    child.once('exit', (code) => reject(new Error(`fixture exited ${code}: ${stderr}`)));
    child.stdout?.on('data', (c: Buffer) => {
      buffered += c.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        stdoutLines.push(line);
        try {
          const parsed = JSON.parse(line) as { message?: string; port?: number };
          if (parsed.message === 'listening' && typeof parsed.port === 'number') {
            clearTimeout(timer);
            resolve(parsed.port);
          }
        } catch {
          // not a JSON line
        }
      }
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    stdoutLines,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

export interface SimpleResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A plain node:http GET (no instrumentation in the test process) with arbitrary headers. */
export function httpGet(
  url: string,
  headers: Record<string, string | string[]> = {},
): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** Sends raw bytes (e.g. a CRLF-injection attempt) and returns the raw response text. */
export function rawRequest(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(raw));
    let data = '';
    socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('timeout')));
  });
}

/** Reads `lakehouse_trace_header_rejected_total` samples from Prometheus text, keyed by header/reason. */
export function rejectedCounts(metricsText: string): Map<string, number> {
  const counts = new Map<string, number>();
  const re = /^lakehouse_trace_header_rejected_total\{([^}]*)\} (\d+(?:\.\d+)?)$/gm;
  for (const m of metricsText.matchAll(re)) {
    const labels = m[1] ?? '';
    const header = /header="([^"]*)"/.exec(labels)?.[1] ?? '';
    const reason = /reason="([^"]*)"/.exec(labels)?.[1] ?? '';
    counts.set(`${header}/${reason}`, Number(m[2]));
  }
  return counts;
}
