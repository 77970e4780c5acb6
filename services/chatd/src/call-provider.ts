import { metrics, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, Histogram, Meter, Span } from '@opentelemetry/api';
import { defaultMask, LAKEHOUSE_ATTRIBUTES as LH } from '@lakehouse/langfuse-processor';
import {
  boundText,
  captureText,
  GEN_AI_OPERATION_DURATION_BUCKETS,
  GEN_AI_TOKEN_USAGE_BUCKETS,
  startSpan,
} from '@lakehouse/telemetry';
import type { RequestTrace } from '@lakehouse/telemetry';
import { HttpError, ProviderError, redact } from './errors.js';
import { MAX_FORWARDED_CONTENT_CHARS } from './providers/chat-provider.js';
import type { ChatProvider, ChatRequest, ChatResult } from './providers/chat-provider.js';

/** The GenAI client histograms chatd records per provider call. */
export interface ChatInstruments {
  tokenUsage: Histogram;
  operationDuration: Histogram;
}

/** Creates the GenAI client histograms on `meter` (default: the global `chatd` meter). */
export function createChatInstruments(meter: Meter = metrics.getMeter('chatd')): ChatInstruments {
  return {
    tokenUsage: meter.createHistogram('gen_ai.client.token.usage', {
      description: 'Number of input and output tokens used',
      unit: '{token}',
      advice: { explicitBucketBoundaries: [...GEN_AI_TOKEN_USAGE_BUCKETS] },
    }),
    operationDuration: meter.createHistogram('gen_ai.client.operation.duration', {
      description: 'GenAI operation duration',
      unit: 's',
      advice: { explicitBucketBoundaries: [...GEN_AI_OPERATION_DURATION_BUCKETS] },
    }),
  };
}

/** Options for {@link callProvider}. */
export interface CallProviderOptions {
  /** Deadline for the whole call, retries included; past it the call fails with 504. */
  timeoutMs: number;
  instruments: ChatInstruments;
  /** Record prompts and completions on the span (`gen_ai.input/output.messages`). */
  captureContent: boolean;
  /** Aborts the call early, e.g. when the client disconnects. */
  signal?: AbortSignal;
  /** The request's trace (its parent, when the gateway's signed hop sent one); the span's parent. */
  trace: RequestTrace;
  /** Configured API keys: removed from the result before it reaches spans, metrics or the caller. */
  secrets?: readonly string[];
}

/** Longest model name kept from an upstream's answer (it becomes a span attribute and a label). */
const MAX_RESPONSE_MODEL_CHARS = 256;

// An upstream's answer is untrusted: it may echo our key (in `model` too), name a huge model or
// write more than anyone downstream reads (the gateway searches the first 1 Mi characters).
function scrubResult(result: ChatResult, secrets: readonly string[]): ChatResult {
  const model = boundText(defaultMask(redact(result.model, secrets)), MAX_RESPONSE_MODEL_CHARS);
  let content = result.content;
  let contentTruncatedChars: number | undefined;
  if (content.length > MAX_FORWARDED_CONTENT_CHARS) {
    let keep = MAX_FORWARDED_CONTENT_CHARS;
    const last = content.charCodeAt(keep - 1);
    // Never keep a high surrogate without its low half.
    if (last >= 0xd800 && last <= 0xdbff) keep -= 1;
    contentTruncatedChars = content.length - keep;
    content = content.slice(0, keep);
  }
  if (secrets.length > 0) content = redact(content, secrets);
  const finishReason = boundText(result.finishReason, 64);
  const out: ChatResult = { ...result, model, content, finishReason };
  if (contentTruncatedChars !== undefined) out.contentTruncatedChars = contentTruncatedChars;
  return out;
}

const tracer = trace.getTracer('chatd');

/**
 * Calls `provider` inside a `chat {model}` CLIENT span with GenAI attributes, records the GenAI
 * client metrics, and enforces the deadline. Rejects with {@link HttpError}: a
 * {@link ProviderError} (502/504) for provider failures, 499 when `signal` aborted first.
 */
export function callProvider(
  provider: ChatProvider,
  request: ChatRequest,
  options: CallProviderOptions,
): Promise<ChatResult> {
  const baseAttrs: Attributes = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': provider.type,
    'gen_ai.request.model': request.model,
  };
  const spanAttrs: Attributes = {
    ...baseAttrs,
    [LH.PROVIDER]: provider.name,
    [LH.TRACE_ID_SOURCE]: options.trace.source,
  };
  if (request.temperature !== undefined)
    spanAttrs['gen_ai.request.temperature'] = request.temperature;
  if (request.maxTokens !== undefined) spanAttrs['gen_ai.request.max_tokens'] = request.maxTokens;
  if (options.captureContent) {
    // Cut to what the attribute keeps before encoding (one pass over what is kept).
    spanAttrs['gen_ai.input.messages'] = JSON.stringify(
      request.messages.map((m) => ({ role: m.role, content: captureText(m.content) })),
    );
  }

  const span = startSpan(
    tracer,
    `chat ${boundText(request.model, MAX_RESPONSE_MODEL_CHARS)}`,
    { kind: SpanKind.CLIENT, attributes: spanAttrs },
    options.trace.context,
  );
  return (async () => {
    const started = performance.now();
    try {
      const result = scrubResult(
        await withDeadline(provider, request, options),
        options.secrets ?? [],
      );
      recordSuccess(span, result, options.captureContent);
      const { tokenUsage, operationDuration } = options.instruments;
      const attrs: Attributes = { ...baseAttrs, 'gen_ai.response.model': result.model };
      operationDuration.record((performance.now() - started) / 1000, attrs);
      tokenUsage.record(result.usage.inputTokens, { ...attrs, 'gen_ai.token.type': 'input' });
      tokenUsage.record(result.usage.outputTokens, { ...attrs, 'gen_ai.token.type': 'output' });
      return result;
    } catch (err) {
      const errorType = err instanceof ProviderError ? err.errorType : 'cancelled';
      span.setAttribute('error.type', errorType);
      // Upstream error texts can quote the prompt: with capture off only the error type leaves.
      const message = options.captureContent ? (err as Error).message : errorType;
      span.setStatus({ code: SpanStatusCode.ERROR, message });
      options.instruments.operationDuration.record((performance.now() - started) / 1000, {
        ...baseAttrs,
        'error.type': errorType,
      });
      throw err;
    } finally {
      span.end();
    }
  })();
}

function recordSuccess(span: Span, result: ChatResult, captureContent: boolean): void {
  span.setAttributes({
    'gen_ai.response.model': result.model,
    'gen_ai.response.finish_reasons': [result.finishReason],
    'gen_ai.usage.input_tokens': result.usage.inputTokens,
    'gen_ai.usage.output_tokens': result.usage.outputTokens,
    // Non-streaming: the whole completion, first token included, arrives now.
    [LH.COMPLETION_START_TIME]: new Date().toISOString(),
  });
  if (captureContent) {
    const text = captureText(result.content);
    span.setAttributes({
      'gen_ai.output.messages': `[{"role":"assistant","content":${JSON.stringify(text)}}]`,
      // The same text as is, for the generation's output: nobody parses the JSON back.
      [LH.COMPLETION]: text,
    });
  }
}

async function withDeadline(
  provider: ChatProvider,
  request: ChatRequest,
  options: CallProviderOptions,
): Promise<ChatResult> {
  const timeoutMs = provider.timeoutMs ?? options.timeoutMs;
  const deadline = new AbortController();
  const signal =
    options.signal === undefined
      ? deadline.signal
      : AbortSignal.any([deadline.signal, options.signal]);
  // Raced against the call so a provider that ignores its signal still cannot outlive the deadline.
  let onAbort = (): void => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = (): void => reject(new Error('aborted'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  const timer = setTimeout(() => deadline.abort(), timeoutMs);
  timer.unref();
  try {
    return await Promise.race([provider.chat(request, signal), aborted]);
  } catch (err) {
    if (deadline.signal.aborted) {
      throw new ProviderError(
        504,
        `provider "${provider.name}" timed out after ${timeoutMs} ms`,
        'timeout',
        { cause: err },
      );
    }
    if (options.signal?.aborted === true) {
      throw new HttpError(499, 'client closed the request', { cause: err });
    }
    if (err instanceof HttpError) throw err;
    throw new ProviderError(
      502,
      `provider "${provider.name}" failed: ${err instanceof Error ? err.message : String(err)}`,
      err instanceof Error ? err.name : '_OTHER',
      { cause: err },
    );
  } finally {
    clearTimeout(timer);
    // Node keeps an AbortSignal.any() signal with a listener alive for good; the listener holds
    // `aborted`, whose race holds the provider's whole answer: every answer would stay in memory.
    signal.removeEventListener('abort', onAbort);
  }
}
