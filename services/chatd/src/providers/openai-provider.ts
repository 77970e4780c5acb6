import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  OpenAI,
} from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { ProviderError } from '../errors.js';
import { createCappedFetch, UpstreamResponseTooLargeError } from './capped-fetch.js';
import type { ChatProvider, ChatRequest, ChatResult } from './chat-provider.js';
import { UpstreamBudgetExceededError, UpstreamByteBudget } from './upstream-budget.js';
import {
  budgetExceededError,
  chatResult,
  cleanUpstreamMessage,
  responseTooLargeError,
  upstreamStatusError,
} from './upstream-answer.js';

/** Options for {@link OpenAIProvider}; `apiKey` stays inside the client and out of errors. */
export interface OpenAIProviderOptions {
  name: string;
  baseUrl: string;
  apiKey?: string;
  timeoutMs?: number;
  /** Retries the client makes on 408/409/429/5xx and connection errors (client default 2). */
  maxRetries?: number;
  /** Largest response body read from the upstream (default MAX_UPSTREAM_RESPONSE_BYTES). */
  maxResponseBytes?: number;
  /** The process-wide budget of upstream answer bytes (default: one of its own). */
  budget?: UpstreamByteBudget;
}

// Marks the stand-in response for a body over the cap, so the client neither retries it nor
// reports it as the upstream's own status.
const TOO_LARGE_HEADER = 'x-lakehouse-response-too-large';
const BUDGET_HEADER = 'x-lakehouse-bytes-in-flight';

function cappedFetchWithoutRetry(
  maxBytes: number | undefined,
  budget: UpstreamByteBudget,
): typeof globalThis.fetch {
  const capped = createCappedFetch(maxBytes, budget);
  return async (input, init) => {
    try {
      return await capped(input, init);
    } catch (err) {
      let header: string;
      if (err instanceof UpstreamResponseTooLargeError) header = TOO_LARGE_HEADER;
      else if (err instanceof UpstreamBudgetExceededError) header = BUDGET_HEADER;
      else throw err;
      // A thrown error would count as a connection failure and be retried: answer instead.
      return new Response(JSON.stringify({ error: { message: err.message } }), {
        status: 502,
        headers: {
          'content-type': 'application/json',
          'x-should-retry': 'false',
          [header]: String(err.limitBytes),
        },
      });
    }
  };
}

// Local servers (vLLM, LM Studio, Ollama /v1) ignore the key but the client insists on one.
const PLACEHOLDER_KEY = 'no-key';

/**
 * Any OpenAI-compatible chat-completions endpoint (OpenAI, OpenRouter, vLLM, LM Studio,
 * Ollama's /v1, Kimi …) through the official `openai` client. Errors become {@link ProviderError}.
 */
export class OpenAIProvider implements ChatProvider {
  readonly name: string;
  readonly type = 'openai';
  readonly timeoutMs: number | undefined;
  /** The upstream's host[:port]: what errors and `/v1/providers` show, never the whole URL. */
  readonly host: string;
  private readonly _client: OpenAI;
  private readonly _apiKey: string | undefined;
  private readonly _budget: UpstreamByteBudget;

  constructor(options: OpenAIProviderOptions) {
    this.name = options.name;
    this.timeoutMs = options.timeoutMs;
    this.host = new URL(options.baseUrl).host;
    this._apiKey = options.apiKey;
    this._budget = options.budget ?? new UpstreamByteBudget();
    this._client = new OpenAI({
      baseURL: options.baseUrl,
      apiKey: options.apiKey ?? PLACEHOLDER_KEY,
      ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
      ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
      // The response body is read under a cap before the client parses it.
      fetch: cappedFetchWithoutRetry(options.maxResponseBytes, this._budget),
    });
  }

  async chat(request: ChatRequest, signal: AbortSignal): Promise<ChatResult> {
    const body: ChatCompletionCreateParamsNonStreaming = {
      model: request.model,
      messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
    };
    if (request.temperature !== undefined) body.temperature = request.temperature;
    if (request.maxTokens !== undefined) body.max_tokens = request.maxTokens;

    let completion;
    try {
      // The answer's bytes stay reserved from the first one read until the client has parsed it.
      completion = await this._budget.run(() =>
        this._client.chat.completions.create(body, { signal }),
      );
    } catch (err) {
      throw this._mapError(err);
    }

    const choice = completion.choices?.[0];
    if (choice === undefined) {
      throw new ProviderError(
        502,
        `provider "${this.name}" returned no choices`,
        'invalid_response',
      );
    }
    return chatResult(request, {
      model: completion.model,
      content: choice.message?.content,
      finishReason: choice.finish_reason,
      inputTokens: completion.usage?.prompt_tokens,
      outputTokens: completion.usage?.completion_tokens,
    });
  }

  private _mapError(err: unknown): unknown {
    // Checked first: the subclasses below extend APIError without a status.
    if (err instanceof APIUserAbortError) return err;
    if (err instanceof APIConnectionTimeoutError) {
      return new ProviderError(504, `provider "${this.name}" timed out`, 'timeout', { cause: err });
    }
    if (err instanceof APIConnectionError) {
      return new ProviderError(
        502,
        `provider "${this.name}" unreachable (${this.host}): ${this._clean(causeMessage(err))}`,
        'connection_error',
        { cause: err },
      );
    }
    if (err instanceof APIError) {
      const status = err.status ?? 0;
      const limit = err.headers?.get(TOO_LARGE_HEADER);
      if (limit !== undefined && limit !== null)
        return responseTooLargeError(this.name, limit, err);
      const budget = err.headers?.get(BUDGET_HEADER);
      if (budget !== undefined && budget !== null)
        return budgetExceededError(this.name, budget, err);
      // The client prefixes its message with the status; ours already says it.
      const detail = this._clean(err.message.replace(/^\d{3} /, ''));
      return upstreamStatusError(this.name, status, detail, err);
    }
    return err;
  }

  private _clean(message: string): string {
    return cleanUpstreamMessage(message, this._apiKey);
  }
}

function causeMessage(err: Error): string {
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const inner = (cause as { cause?: unknown }).cause;
    // undici wraps the socket error (ECONNREFUSED …) one level deeper.
    if (inner instanceof Error) return `${cause.message} (${inner.message})`;
    return cause.message;
  }
  return err.message;
}
