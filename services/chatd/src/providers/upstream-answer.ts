import { ProviderError, redact } from '../errors.js';
import type { ChatRequest, ChatResult } from './chat-provider.js';
import { estimateTokens } from './chat-provider.js';

const MAX_UPSTREAM_MESSAGE = 500;
// Upstream statuses that mean the request itself was refused (too many tokens, bad parameters):
// the caller's 400, not an infrastructure failure.
const CALLER_ERROR_STATUSES = new Set([400, 413, 422]);

/** What an upstream client returned, each field as the client types it (any may be missing). */
export interface UpstreamAnswer {
  model: string | null | undefined;
  content: string | null | undefined;
  finishReason: string | null | undefined;
  inputTokens: number | null | undefined;
  outputTokens: number | null | undefined;
}

/**
 * The {@link ChatResult} of `answer` to `request`: the request's model when the upstream names
 * none, `stop` when it gives no finish reason, estimated tokens when it reports no usage.
 */
export function chatResult(request: ChatRequest, answer: UpstreamAnswer): ChatResult {
  const content = answer.content ?? '';
  return {
    model: typeof answer.model === 'string' && answer.model !== '' ? answer.model : request.model,
    content,
    finishReason: answer.finishReason || 'stop',
    usage: {
      inputTokens:
        answer.inputTokens ?? estimateTokens(request.messages.map((m) => m.content).join('')),
      outputTokens: answer.outputTokens ?? estimateTokens(content),
    },
  };
}

/** An upstream's error text as it may be shown: configured keys removed, at most 500 characters. */
export function cleanUpstreamMessage(message: string, apiKey: string | undefined): string {
  const m = redact(message, [apiKey]);
  return m.length > MAX_UPSTREAM_MESSAGE ? `${m.slice(0, MAX_UPSTREAM_MESSAGE)}…` : m;
}

/**
 * The error for an upstream's HTTP error `status`: the caller's 400 when the upstream refused the
 * request itself (400, 413, 422), else 502. `detail` is already cleaned.
 */
export function upstreamStatusError(
  provider: string,
  status: number,
  detail: string,
  cause: unknown,
): ProviderError {
  return CALLER_ERROR_STATUSES.has(status)
    ? new ProviderError(
        400,
        `provider "${provider}" refused the request (HTTP ${status}): ${detail}`,
        String(status),
        { cause },
      )
    : new ProviderError(
        502,
        `provider "${provider}" returned HTTP ${status}: ${detail}`,
        String(status),
        {
          cause,
        },
      );
}

/** The error for an upstream body over the cap of `limitBytes`. */
export function responseTooLargeError(
  provider: string,
  limitBytes: number | string,
  cause: unknown,
): ProviderError {
  return new ProviderError(
    502,
    `provider "${provider}" answered with a body over ${limitBytes} bytes`,
    'response_too_large',
    { cause },
  );
}

/** A call stopped because chatd holds its limit of upstream answer bytes: 503, retry later. */
export function budgetExceededError(
  provider: string,
  limitBytes: number | string,
  cause: unknown,
): ProviderError {
  return new ProviderError(
    503,
    `provider "${provider}" not read: chatd already holds its limit of ${limitBytes} bytes of ` +
      'upstream answers (UPSTREAM_BYTES_IN_FLIGHT); retry later',
    'upstream_bytes_in_flight',
    { cause },
  );
}
