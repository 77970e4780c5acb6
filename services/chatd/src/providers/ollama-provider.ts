import { Ollama } from 'ollama';
import type { ChatRequest as OllamaChatRequest } from 'ollama';
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

/** Options for {@link OllamaProvider}; `apiKey` (ollama.com) is sent as a bearer token only. */
export interface OllamaProviderOptions {
  name: string;
  baseUrl: string;
  apiKey?: string;
  timeoutMs?: number;
  /** Largest response body read from the upstream (default MAX_UPSTREAM_RESPONSE_BYTES). */
  maxResponseBytes?: number;
  /** The process-wide budget of upstream answer bytes (default: one of its own). */
  budget?: UpstreamByteBudget;
}

/**
 * Ollama's native `/api/chat` through the official `ollama` client. Usage comes from
 * `prompt_eval_count` / `eval_count`. Errors become {@link ProviderError}.
 */
export class OllamaProvider implements ChatProvider {
  readonly name: string;
  readonly type = 'ollama';
  private readonly _baseUrl: string;
  readonly timeoutMs: number | undefined;
  /** The upstream's host[:port]: what errors and `/v1/providers` show, never the whole URL. */
  readonly host: string;
  private readonly _apiKey: string | undefined;
  private readonly _fetch: typeof globalThis.fetch;
  private readonly _budget: UpstreamByteBudget;

  constructor(options: OllamaProviderOptions) {
    this.name = options.name;
    this._baseUrl = options.baseUrl;
    this.timeoutMs = options.timeoutMs;
    this.host = new URL(options.baseUrl).host;
    this._apiKey = options.apiKey;
    this._budget = options.budget ?? new UpstreamByteBudget();
    this._fetch = createCappedFetch(options.maxResponseBytes, this._budget);
  }

  async chat(request: ChatRequest, signal: AbortSignal): Promise<ChatResult> {
    // The client's non-streaming calls take no AbortSignal, so a per-call client gets a
    // fetch that carries ours (the client object is a few fields; construction is cheap).
    const client = new Ollama({
      host: this._baseUrl,
      // The response body is read under a cap before the client parses it.
      fetch: (input, init) => this._fetch(input, { ...init, signal }),
      ...(this._apiKey !== undefined
        ? { headers: { Authorization: `Bearer ${this._apiKey}` } }
        : {}),
    });
    const body: OllamaChatRequest & { stream: false } = {
      model: request.model,
      messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
      stream: false,
    };
    const options: NonNullable<OllamaChatRequest['options']> = {};
    if (request.temperature !== undefined) options.temperature = request.temperature;
    if (request.maxTokens !== undefined) options.num_predict = request.maxTokens;
    if (Object.keys(options).length > 0) body.options = options;

    let response;
    try {
      // The answer's bytes stay reserved from the first one read until the client has parsed it.
      response = await this._budget.run(() => client.chat(body));
    } catch (err) {
      throw this._mapError(err, signal);
    }
    return chatResult(request, {
      model: response.model,
      content: response.message?.content,
      finishReason: response.done_reason,
      inputTokens: response.prompt_eval_count,
      outputTokens: response.eval_count,
    });
  }

  private _mapError(err: unknown, signal: AbortSignal): unknown {
    // An abort is the caller's deadline; the caller classifies it.
    if (signal.aborted) return err;
    if (err instanceof UpstreamResponseTooLargeError) {
      return responseTooLargeError(this.name, err.limitBytes, err);
    }
    if (err instanceof UpstreamBudgetExceededError) {
      return budgetExceededError(this.name, err.limitBytes, err);
    }
    if (err instanceof Error && err.name === 'ResponseError') {
      const status = (err as Error & { status_code?: number }).status_code ?? 0;
      return upstreamStatusError(this.name, status, this._clean(err.message), err);
    }
    if (err instanceof TypeError) {
      // undici's "fetch failed"; the socket error (ECONNREFUSED …) is its cause.
      const cause = (err as { cause?: unknown }).cause;
      const detail = cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
      return new ProviderError(
        502,
        `provider "${this.name}" unreachable (${this.host}): ${this._clean(detail)}`,
        'connection_error',
        { cause: err },
      );
    }
    if (err instanceof SyntaxError) {
      return new ProviderError(
        502,
        `provider "${this.name}" returned a malformed response: ${this._clean(err.message)}`,
        'invalid_response',
        { cause: err },
      );
    }
    return err;
  }

  private _clean(message: string): string {
    return cleanUpstreamMessage(message, this._apiKey);
  }
}
