// Shared test helpers: a fixture-app runner and a raw HTTP client (the OTLP stand-in and
// `eventually` are @lakehouse/test-support's).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';

// Works from dist/test (compiled) and from test/ (tsx); the fixtures import ../../dist/src either way.
export const FIXTURES_DIR = fileURLToPath(
  new URL(
    import.meta.url.includes('/dist/test/') ? '../../test/fixtures/' : './fixtures/',
    import.meta.url,
  ),
);

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
