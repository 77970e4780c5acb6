// A local OTLP/HTTP JSON receiver that stands in for the Collector or Langfuse in tests.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface ReceivedSpan {
  readonly service: string;
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

export interface ReceivedRequest {
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface OtlpReceiver {
  readonly url: string;
  readonly spans: ReceivedSpan[];
  readonly requests: ReceivedRequest[];
  /** What the next requests get: a status code, or 'hang' to never answer. */
  respondWith(mode: number | 'hang'): void;
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
export function attributeMap(list: OtlpKeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

/** Decodes one OTLP JSON ExportTraceServiceRequest into flat spans. */
export function decodeTraceExport(payload: unknown): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  const resourceSpans = (payload as { resourceSpans?: unknown[] }).resourceSpans ?? [];
  for (const rs of resourceSpans as Array<{
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: unknown[];
  }>) {
    const service = String(attributeMap(rs.resource?.attributes)['service.name'] ?? '');
    for (const ss of (rs.scopeSpans ?? []) as Array<{
      scope?: { name?: string };
      spans?: unknown[];
    }>) {
      for (const s of (ss.spans ?? []) as Array<Record<string, unknown>>) {
        const parent = s.parentSpanId as string | undefined;
        spans.push({
          service,
          scope: ss.scope?.name ?? '',
          traceId: String(s.traceId),
          spanId: String(s.spanId),
          parentSpanId: parent ? parent : undefined,
          name: String(s.name),
          kind: Number(s.kind ?? 0),
          startNanos: BigInt(String(s.startTimeUnixNano ?? 0)),
          endNanos: BigInt(String(s.endTimeUnixNano ?? 0)),
          statusCode: Number((s.status as { code?: number } | undefined)?.code ?? 0),
          attributes: attributeMap(s.attributes as OtlpKeyValue[] | undefined),
        });
      }
    }
  }
  return spans;
}

/** Starts a receiver on 127.0.0.1:0; JSON trace exports are decoded into `spans`. */
export async function startOtlpReceiver(
  options: { check?: (request: ReceivedRequest) => string | undefined } = {},
): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const requests: ReceivedRequest[] = [];
  let mode: number | 'hang' = 200;
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      const request = { path: req.url ?? '', headers: req.headers, body: raw.toString('utf8') };
      requests.push(request);
      if (mode === 'hang') {
        hanging.add(res);
        return;
      }
      const problem = options.check?.(request);
      if (problem) {
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: problem }));
        return;
      }
      if (mode !== 200) {
        res.writeHead(mode, { 'content-type': 'application/json' }).end('{"error":"injected"}');
        return;
      }
      if (
        request.path.endsWith('/v1/traces') &&
        String(req.headers['content-type']).includes('json')
      ) {
        spans.push(...decodeTraceExport(JSON.parse(request.body)));
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    requests,
    respondWith(next) {
      mode = next;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
