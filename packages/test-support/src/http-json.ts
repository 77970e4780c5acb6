import http from 'node:http';

/** A JSON answer: status, headers, the raw text and the body (`{raw: text}` when not JSON). */
export interface JsonResponse {
  status: number;
  headers: Headers;
  /** The `x-lakehouse-trace-id` response header. */
  traceHeader: string | null;
  text: string;
  body: Record<string, unknown>;
}

/** POSTs JSON (a string is sent as is) with global fetch. */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { raw: text };
  }
  return {
    status: res.status,
    headers: res.headers,
    traceHeader: res.headers.get('x-lakehouse-trace-id'),
    text,
    body: parsed,
  };
}

/** What a load client saw: an answer, a refused connection, or a connection cut mid-exchange. */
export type AgentOutcome =
  | { kind: 'answered'; status: number; traceId: string; error: string }
  | { kind: 'refused' }
  | { kind: 'cut'; code: string; reused: boolean };

/**
 * POSTs a JSON string over `agent` (keep-alive load clients) and reports what happened; never
 * rejects. `traceId`/`error` come from the JSON body (empty when it is not JSON).
 */
export function postOverAgent(
  agent: http.Agent,
  url: string,
  body: string,
  timeoutMs: number,
): Promise<AgentOutcome> {
  return new Promise((resolve) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let traceId = '';
          let error = '';
          try {
            const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
              trace_id?: unknown;
              error?: unknown;
            };
            traceId = String(parsed.trace_id ?? '');
            error = String(parsed.error ?? '');
          } catch {
            // The caller reports an answer without a JSON body (empty trace id).
          }
          resolve({ kind: 'answered', status: res.statusCode ?? 0, traceId, error });
        });
        res.on('error', (err: NodeJS.ErrnoException) =>
          resolve({ kind: 'cut', code: err.code ?? err.message, reused: req.reusedSocket }),
        );
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve(
        err.code === 'ECONNREFUSED'
          ? { kind: 'refused' }
          : { kind: 'cut', code: err.code ?? err.message, reused: req.reusedSocket },
      ),
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error('client timeout')));
    req.end(body);
  });
}
