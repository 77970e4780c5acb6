// The one local stand-in for an OTLP/HTTP endpoint (the Collector, or Langfuse's OTLP route).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** One span of a received OTLP/JSON trace export, flattened. Ids are lowercase hex. */
export interface ReceivedSpan {
  readonly service: string;
  readonly resource: Record<string, unknown>;
  readonly scope: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: number;
  readonly startNanos: bigint;
  readonly endNanos: bigint;
  readonly statusCode: number;
  readonly attributes: Record<string, unknown>;
}

/** One log record of a received OTLP/JSON logs export. */
export interface ReceivedLog {
  readonly body: unknown;
  readonly traceId: string;
  readonly scope: string;
}

/** Every request the receiver got, answered or not (body gunzipped). */
export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** The body parsed as JSON, when it is JSON. */
  readonly json: unknown;
}

/** Why a request was refused, and with which status. */
export interface Rejection {
  readonly status: number;
  readonly reason: string;
}

/** Options of {@link startOtlpReceiver}. */
export interface OtlpReceiverOptions {
  /** Checks each request before it is accepted; a rejection is answered and recorded. */
  check?: (request: ReceivedRequest) => Rejection | undefined;
}

/** A running receiver; its arrays fill as exports arrive. */
export interface OtlpReceiver {
  readonly url: string;
  readonly requests: ReceivedRequest[];
  /** Reasons of the requests `check` refused. */
  readonly rejections: string[];
  /** Spans of accepted JSON trace exports (`…/v1/traces`). */
  readonly spans: ReceivedSpan[];
  /** Log records of accepted JSON log exports (`…/v1/logs`). */
  readonly logs: ReceivedLog[];
  /** What the next requests get: a status (with extra headers), or 'hang' to never answer. */
  respondWith(mode: number | 'hang', headers?: Record<string, string>): void;
  close(): Promise<void>;
}

interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
}
interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

function anyValue(value: OtlpAnyValue | undefined): unknown {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(anyValue);
  if (value.kvlistValue) return attributeMap(value.kvlistValue.values);
  return undefined;
}

/** Flattens OTLP key/value attributes to a plain object. */
function attributeMap(list: OtlpKeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

// OTLP/JSON ids are hex; protobuf-JSON writers may send base64.
function hexId(id: unknown): string {
  if (typeof id !== 'string') return '';
  return /^[0-9a-f]*$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
}

/** Decodes one OTLP JSON ExportTraceServiceRequest into flat spans. */
export function decodeTraceExport(payload: unknown): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  const resourceSpans = (payload as { resourceSpans?: unknown[] } | null)?.resourceSpans ?? [];
  for (const rs of resourceSpans as Array<{
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: unknown[];
  }>) {
    const resource = attributeMap(rs.resource?.attributes);
    const service = String(resource['service.name'] ?? '');
    for (const ss of (rs.scopeSpans ?? []) as Array<{
      scope?: { name?: string };
      spans?: unknown[];
    }>) {
      for (const s of (ss.spans ?? []) as Array<Record<string, unknown>>) {
        const parent = hexId(s['parentSpanId']);
        spans.push({
          service,
          resource,
          scope: ss.scope?.name ?? '',
          traceId: hexId(s['traceId']),
          spanId: hexId(s['spanId']),
          parentSpanId: parent === '' ? undefined : parent,
          name: String(s['name']),
          kind: Number(s['kind'] ?? 0),
          startNanos: BigInt(String(s['startTimeUnixNano'] ?? 0)),
          endNanos: BigInt(String(s['endTimeUnixNano'] ?? 0)),
          statusCode: Number((s['status'] as { code?: number } | undefined)?.code ?? 0),
          attributes: attributeMap(s['attributes'] as OtlpKeyValue[] | undefined),
        });
      }
    }
  }
  return spans;
}

/** Decodes one OTLP JSON ExportLogsServiceRequest into flat log records. */
function decodeLogsExport(payload: unknown): ReceivedLog[] {
  const logs: ReceivedLog[] = [];
  const resourceLogs = (payload as { resourceLogs?: unknown[] } | null)?.resourceLogs ?? [];
  for (const rl of resourceLogs as Array<{ scopeLogs?: unknown[] }>) {
    for (const sl of (rl.scopeLogs ?? []) as Array<{
      scope?: { name?: string };
      logRecords?: Array<Record<string, unknown>>;
    }>) {
      for (const r of sl.logRecords ?? []) {
        logs.push({
          body: anyValue(r['body'] as OtlpAnyValue | undefined),
          traceId: hexId(r['traceId']),
          scope: sl.scope?.name ?? '',
        });
      }
    }
  }
  return logs;
}

/**
 * Langfuse's OTLP ingestion checks (SPEC §4): `POST /api/public/otel/v1/traces`, Basic auth with
 * the project keys, and `x-langfuse-ingestion-version: 4`.
 */
export function langfuseIngestionCheck(
  publicKey: string,
  secretKey: string,
): (request: ReceivedRequest) => Rejection | undefined {
  const auth = `Basic ${Buffer.from(`${publicKey}:${secretKey}`).toString('base64')}`;
  return (request) => {
    if (request.method !== 'POST' || request.path !== '/api/public/otel/v1/traces') {
      return { status: 404, reason: `path ${request.method} ${request.path}` };
    }
    if (request.headers['authorization'] !== auth) return { status: 401, reason: 'auth' };
    if (request.headers['x-langfuse-ingestion-version'] !== '4') {
      return { status: 400, reason: 'ingestion-version' };
    }
    return undefined;
  };
}

/** Starts a receiver on 127.0.0.1:0. JSON trace and log exports are decoded as they arrive. */
export async function startOtlpReceiver(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const requests: ReceivedRequest[] = [];
  const rejections: string[] = [];
  const spans: ReceivedSpan[] = [];
  const logs: ReceivedLog[] = [];
  let mode: number | 'hang' = 200;
  let modeHeaders: Record<string, string> = {};
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      const body = raw.toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const request: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        json,
      };
      requests.push(request);
      if (mode === 'hang') {
        hanging.add(res);
        return;
      }
      const rejection = options.check?.(request);
      if (rejection !== undefined) {
        rejections.push(rejection.reason);
        res
          .writeHead(rejection.status, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: rejection.reason }));
        return;
      }
      if (mode !== 200) {
        res
          .writeHead(mode, { 'content-type': 'application/json', ...modeHeaders })
          .end('{"error":"injected"}');
        return;
      }
      if (json !== undefined && request.path.endsWith('/v1/traces')) {
        spans.push(...decodeTraceExport(json));
      }
      if (json !== undefined && request.path.endsWith('/v1/logs'))
        logs.push(...decodeLogsExport(json));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    rejections,
    spans,
    logs,
    respondWith(next, headers = {}) {
      mode = next;
      modeHeaders = headers;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
