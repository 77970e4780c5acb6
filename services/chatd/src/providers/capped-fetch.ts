import { UpstreamByteBudget } from './upstream-budget.js';

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
 * at the cap. Every chunk is reserved on `budget` as it is read (see {@link UpstreamByteBudget}).
 * Resolves with a Response over the bytes read; rejects with {@link UpstreamResponseTooLargeError}
 * past the cap and {@link UpstreamBudgetExceededError} past the budget, and stops reading then.
 * Clients parse only what got through.
 */
export function createCappedFetch(
  maxBytes: number = MAX_UPSTREAM_RESPONSE_BYTES,
  budget: UpstreamByteBudget = new UpstreamByteBudget(),
  inner: Fetch = globalThis.fetch,
): Fetch {
  return async (input, init) => {
    // Used only when the fetch runs outside budget.run(): released once the body is handed over.
    const unleased = { bytes: 0 };
    try {
      return await readCapped(await inner(input, init), maxBytes, budget, unleased);
    } finally {
      budget.release(unleased);
    }
  };
}

async function readCapped(
  response: Response,
  maxBytes: number,
  budget: UpstreamByteBudget,
  unleased: { bytes: number },
): Promise<Response> {
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
    try {
      budget.reserve(value.byteLength, unleased);
    } catch (err) {
      await reader.cancel().catch(() => undefined);
      throw err;
    }
    chunks.push(value);
  }
  const headers = new Headers(response.headers);
  // The body below is already decoded and may differ in length from what the wire said.
  headers.delete('content-encoding');
  headers.delete('content-length');
  return new Response(NULL_BODY_STATUSES.has(response.status) ? null : replay(chunks), {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}

const EMPTY = new Uint8Array(0);

/**
 * The chunks read, as a stream handing each one over and dropping it: no concatenated copy
 * (a Buffer body would be copied again by the Response), and the client's own read is the only
 * holder of each chunk once it is pulled.
 */
function replay(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream({
    pull(controller) {
      const chunk = chunks[next];
      if (chunk === undefined) {
        controller.close();
        return;
      }
      chunks[next++] = EMPTY;
      controller.enqueue(chunk);
    },
    cancel() {
      chunks.length = 0;
    },
  });
}
