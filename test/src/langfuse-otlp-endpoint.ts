// A stand-in for Langfuse's OTLP route, `POST {base}/api/public/otel/v1/traces`, for tests that
// cannot run Langfuse's server. It applies the route's own rules, read from Langfuse's source
// (web/src/pages/api/public/otel/v1/traces/index.ts, identical in v3.225.4 and v4.16.0 except the
// id checks v4 added, which this applies): Basic auth with the project's pk:sk (401 otherwise);
// content-type application/x-protobuf or application/json (400 otherwise); gunzip when
// content-encoding says gzip; x-langfuse-ingestion-version, when sent, an integer <= 4 (400
// otherwise); and the whole export rejected (400) when a span lacks its trace or span id. The
// spans it accepts are rebuilt into trees with Langfuse's tree rules (langfuse-tree.ts).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { buildTraces, type LangfuseTrace } from './langfuse-tree.js';
import { decodeTraceRequestProtobuf } from './otlp-protobuf.js';
import { decodeTraceExport, type ReceivedSpan } from '@lakehouse/test-support';

/** Langfuse's OTLP traces path; an `otlp_http` exporter's endpoint is the part before /v1/traces. */
export const LANGFUSE_OTLP_TRACES_PATH = '/api/public/otel/v1/traces';

/** One request as the endpoint saw it, and what it answered. */
export interface LangfuseOtlpRequest {
  readonly status: number;
  readonly contentType: string;
  readonly contentEncoding: string;
  readonly ingestionVersion: string | undefined;
  readonly spans: number;
  readonly error: string | undefined;
}

export interface LangfuseOtlpEndpoint {
  /** Base URL, e.g. http://127.0.0.1:PORT (Langfuse's LANGFUSE_BASE_URL). */
  readonly baseUrl: string;
  /** What an `otlp_http` exporter is pointed at: {baseUrl}/api/public/otel. */
  readonly otlpEndpoint: string;
  /** Every span of every accepted export, in arrival order. */
  readonly spans: ReceivedSpan[];
  readonly requests: LangfuseOtlpRequest[];
  /** The accepted spans rebuilt into one tree per trace id. */
  traces(): Map<string, LangfuseTrace>;
  /** Whether it is listening (false between stop() and restart()). */
  readonly up: boolean;
  /** An outage: stops listening and drops open connections; the port stays reserved by nobody. */
  stop(): Promise<void>;
  /** Back from an outage, on the same port. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface LangfuseOtlpEndpointOptions {
  readonly publicKey: string;
  readonly secretKey: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
}

class RouteError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

// The route's checks, in its order.
function accept(req: http.IncomingMessage, raw: Buffer, expectedAuth: string): ReceivedSpan[] {
  if (header(req, 'authorization') !== expectedAuth) throw new RouteError(401, 'Unauthorized');
  let body = raw;
  if (header(req, 'content-encoding')?.includes('gzip')) {
    try {
      body = gunzipSync(raw);
    } catch {
      throw new RouteError(400, 'Failed to decompress request body');
    }
  }
  const contentType = header(req, 'content-type')?.toLowerCase() ?? '';
  let payload: { resourceSpans?: unknown };
  if (contentType.includes('application/x-protobuf')) {
    try {
      payload = decodeTraceRequestProtobuf(body);
    } catch {
      throw new RouteError(400, 'Failed to parse OTel Protobuf Trace');
    }
  } else if (contentType.includes('application/json')) {
    try {
      payload = JSON.parse(body.toString('utf8')) as { resourceSpans?: unknown };
    } catch {
      throw new RouteError(400, 'Failed to parse OTel JSON Trace');
    }
  } else {
    throw new RouteError(400, 'Invalid content type');
  }
  const spans = decodeTraceExport(payload);
  // v4: an export with an unconvertible id is rejected whole (validateOtelSpanIds).
  if (
    spans.some(
      (s) => !s.traceId || s.traceId === 'undefined' || !s.spanId || s.spanId === 'undefined',
    )
  ) {
    throw new RouteError(
      400,
      'Invalid OTLP trace export: traceId and spanId are required on every span',
    );
  }
  const version = header(req, 'x-langfuse-ingestion-version');
  if (version !== undefined) {
    const parsed = Number.parseInt(version, 10);
    if (Number.isNaN(parsed) || parsed > 4)
      throw new RouteError(400, `Unsupported x-langfuse-ingestion-version: "${version}"`);
  }
  return spans;
}

/** Starts the endpoint on 127.0.0.1 (a free port unless one is given). */
export async function startLangfuseOtlpEndpoint(
  options: LangfuseOtlpEndpointOptions,
): Promise<LangfuseOtlpEndpoint> {
  const expectedAuth = `Basic ${Buffer.from(`${options.publicKey}:${options.secretKey}`).toString('base64')}`;
  const spans: ReceivedSpan[] = [];
  const requests: LangfuseOtlpRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const seen = {
        contentType: header(req, 'content-type') ?? '',
        contentEncoding: header(req, 'content-encoding') ?? '',
        ingestionVersion: header(req, 'x-langfuse-ingestion-version'),
      };
      if (req.method !== 'POST' || req.url?.split('?')[0] !== LANGFUSE_OTLP_TRACES_PATH) {
        requests.push({ ...seen, status: 404, spans: 0, error: 'not found' });
        res.writeHead(404).end();
        return;
      }
      try {
        const accepted = accept(req, Buffer.concat(chunks), expectedAuth);
        spans.push(...accepted);
        requests.push({ ...seen, status: 200, spans: accepted.length, error: undefined });
        // Next.js's res.json(): the Collector ignores bodies of this content type.
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end('{}');
      } catch (error) {
        const status = error instanceof RouteError ? error.status : 500;
        const message = error instanceof Error ? error.message : String(error);
        requests.push({ ...seen, status, spans: 0, error: message });
        res
          .writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
          .end(JSON.stringify({ error: message }));
      }
    });
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(options.port ?? 0);
  const { port } = server.address() as AddressInfo;
  let up = true;
  const stop = async () => {
    if (!up) return;
    up = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    otlpEndpoint: `${baseUrl}/api/public/otel`,
    spans,
    requests,
    traces: () => buildTraces(spans),
    get up() {
      return up;
    },
    stop,
    async restart() {
      if (up) return;
      await listen(port);
      up = true;
    },
    close: stop,
  };
}
