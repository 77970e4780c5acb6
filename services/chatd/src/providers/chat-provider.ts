/** Message roles chatd accepts (the OpenAI chat roles every provider understands). */
export const CHAT_ROLES = ['system', 'user', 'assistant'] as const;

/** One of {@link CHAT_ROLES}. */
export type ChatRole = (typeof CHAT_ROLES)[number];

/** One chat message; content is plain text. */
export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/** A validated chat request as providers receive it. */
export interface ChatRequest {
  model: string;
  messages: readonly ChatMessage[];
  temperature?: number;
  maxTokens?: number;
}

/** A provider's answer. `model` is the model the provider reports (falls back to the request's). */
export interface ChatResult {
  model: string;
  content: string;
  finishReason: string;
  usage: { inputTokens: number; outputTokens: number };
  /** Characters cut off the end of `content` past {@link MAX_FORWARDED_CONTENT_CHARS}. */
  contentTruncatedChars?: number;
}

/** Longest completion chatd forwards (UTF-16 units); the rest is cut and counted. */
export const MAX_FORWARDED_CONTENT_CHARS = 2 * 1024 * 1024;

/**
 * One configured provider. `chat` must honour `signal` (reject promptly once aborted) and
 * should throw {@link ProviderError} for upstream failures; other errors are mapped to 502.
 */
export interface ChatProvider {
  /** The configured name clients pass as `provider`. */
  readonly name: string;
  /** The wire protocol: `openai`, `ollama` or `sim` (also `gen_ai.provider.name`). */
  readonly type: string;
  /** Upstream host[:port], for `GET /v1/providers` (never the whole base URL); undefined for `sim`. */
  readonly host?: string;
  /** Per-provider deadline overriding PROVIDER_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  chat(request: ChatRequest, signal: AbortSignal): Promise<ChatResult>;
}

/** Deterministic token estimate for providers that report none: ceil(chars / 4). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
