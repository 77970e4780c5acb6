export { createApp } from './app.js';
export type { ChatdDeps } from './app.js';
export {
  loadConfig,
  ConfigError,
  CHATD_DEFAULTS,
  PROVIDER_TYPES,
  SIM_PROVIDER_NAME,
  DEFAULT_OLLAMA_BASE_URL,
} from './config.js';
export type { ChatdConfig, ProviderConfig, ProviderType } from './config.js';
export { HttpError, ProviderError } from './errors.js';
export { parseChatBody, MAX_MODEL_CHARS } from './chat-request.js';
export type { ParsedChatBody } from './chat-request.js';
export {
  callProvider,
  createChatInstruments,
  TOKEN_USAGE_BUCKETS,
  OPERATION_DURATION_BUCKETS,
} from './call-provider.js';
export type { CallProviderOptions, ChatInstruments } from './call-provider.js';
export { CHAT_ROLES, estimateTokens } from './providers/chat-provider.js';
export type {
  ChatMessage,
  ChatProvider,
  ChatRequest,
  ChatResult,
  ChatRole,
} from './providers/chat-provider.js';
export { ProviderRegistry, createProviderRegistry } from './providers/provider-registry.js';
export type { ProviderInfo } from './providers/provider-registry.js';
export {
  createCappedFetch,
  MAX_UPSTREAM_RESPONSE_BYTES,
  UpstreamResponseTooLargeError,
} from './providers/capped-fetch.js';
export { OpenAIProvider } from './providers/openai-provider.js';
export type { OpenAIProviderOptions } from './providers/openai-provider.js';
export { OllamaProvider } from './providers/ollama-provider.js';
export type { OllamaProviderOptions } from './providers/ollama-provider.js';
export { SimProvider, SIM_MODES } from './providers/sim-provider.js';
export type { SimProviderOptions, SimRoster } from './providers/sim-provider.js';
