/** Largest upstream response body chatd reads (after decompression); a bigger one is a 502. */
const MAX_UPSTREAM_RESPONSE_BYTES = 16 * 1024 * 1024;

/** An upstream answered with a body over the cap; nothing past the cap was read. */
export class UpstreamResponseTooLargeError extends Error {
  readonly limitBytes: number;
  constructor(limitBytes: number) {
    super(`response body exceeds ${limitBytes} bytes`);
    this.name = 'UpstreamResponseTooLargeError';
    this.limitBytes = limitBytes;
  }
}

type Fetch = typeof globalThis.fetch;

// Statuses a Response must be built without a body for.
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * A `fetch` for provider clients that reads the whole response body, but never more than
 * `maxBytes`: a larger Content-Length is refused before reading, a longer stream is cancelled
 * at the cap. Resolves with a Response over the bytes read; rejects with
 * {@link UpstreamResponseTooLargeError} past the cap. Clients parse only what got through.
 */
export function createCappedFetch(
  maxBytes: number = MAX_UPSTREAM_RESPONSE_BYTES,
  inner: Fetch = globalThis.fetch,
): Fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    const declared = Number(response.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw new UpstreamResponseTooLargeError(maxBytes);
    }
    if (response.body === null) return response;
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new UpstreamResponseTooLargeError(maxBytes);
      }
      chunks.push(value);
    }
    const headers = new Headers(response.headers);
    // The body below is already decoded and may differ in length from what the wire said.
    headers.delete('content-encoding');
    headers.delete('content-length');
    return new Response(NULL_BODY_STATUSES.has(response.status) ? null : Buffer.concat(chunks), {
      status: response.status,
      statusText: response.statusText,
      headers,
    });
  };
}
