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
