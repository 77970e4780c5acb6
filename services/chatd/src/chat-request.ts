import { HttpError } from './errors.js';
import type { ChatMessage, ChatRequest, ChatRole } from './providers/chat-provider.js';
import { CHAT_ROLES } from './providers/chat-provider.js';

/** Longest `model` accepted: it names the span and becomes a metric label and attribute. */
const MAX_MODEL_CHARS = 256;

/** A validated `POST /v1/chat` body: the provider name and what the provider receives. */
export interface ParsedChatBody {
  provider: string;
  request: ChatRequest;
}

/**
 * Validates a `POST /v1/chat` body. Throws {@link HttpError} 400 whose message names the
 * offending field. Extra fields are ignored; `null` optional fields count as absent.
 */
export function parseChatBody(body: unknown): ParsedChatBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw bad('request body must be a JSON object (send Content-Type: application/json)');
  }
  const b = body as Record<string, unknown>;
  const provider = requiredString(b, 'provider');
  const model = requiredString(b, 'model');
  if (model.length > MAX_MODEL_CHARS) {
    throw bad(`model: must be at most ${MAX_MODEL_CHARS} characters, got ${model.length}`);
  }

  const rawMessages = b['messages'];
  if (!Array.isArray(rawMessages)) throw bad(`messages: required, an array of {role, content}`);
  if (rawMessages.length === 0) throw bad('messages: must not be empty');
  const messages = rawMessages.map((m: unknown, i): ChatMessage => {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) {
      throw bad(`messages[${i}]: expected an object {role, content}`);
    }
    const msg = m as Record<string, unknown>;
    const role = msg['role'];
    if (typeof role !== 'string' || !(CHAT_ROLES as readonly string[]).includes(role)) {
      throw bad(
        `messages[${i}].role: expected one of ${CHAT_ROLES.join(', ')}, got ${describe(role)}`,
      );
    }
    const content = msg['content'];
    if (typeof content !== 'string') {
      throw bad(`messages[${i}].content: expected a string, got ${describe(content)}`);
    }
    return { role: role as ChatRole, content };
  });

  const request: ChatRequest = { model, messages };
  const temperature = b['temperature'];
  if (temperature !== undefined && temperature !== null) {
    if (typeof temperature !== 'number' || !(temperature >= 0 && temperature <= 2)) {
      throw bad(`temperature: expected a number between 0 and 2, got ${describe(temperature)}`);
    }
    request.temperature = temperature;
  }
  const maxTokens = b['max_tokens'];
  if (maxTokens !== undefined && maxTokens !== null) {
    if (typeof maxTokens !== 'number' || !Number.isSafeInteger(maxTokens) || maxTokens < 1) {
      throw bad(`max_tokens: expected a positive integer, got ${describe(maxTokens)}`);
    }
    request.maxTokens = maxTokens;
  }
  return { provider, request };
}

function requiredString(b: Record<string, unknown>, key: string): string {
  const v = b[key];
  if (v === undefined || v === null) throw bad(`${key}: required, a non-empty string`);
  if (typeof v !== 'string') throw bad(`${key}: expected a string, got ${describe(v)}`);
  if (v.trim() === '') throw bad(`${key}: must not be empty`);
  return v;
}

function bad(message: string): HttpError {
  return new HttpError(400, message);
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') {
    const s = v.length > 40 ? `${v.slice(0, 40)}…` : v;
    return JSON.stringify(s);
  }
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return `a ${typeof v}`;
}
