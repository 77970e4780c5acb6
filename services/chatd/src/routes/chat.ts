import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'winston';
import { requestTrace } from '@lakehouse/telemetry';
import { callProvider } from '../call-provider.js';
import type { ChatInstruments } from '../call-provider.js';
import { parseChatBody } from '../chat-request.js';
import { quoteClientValue } from '@lakehouse/telemetry';
import { HttpError } from '../errors.js';
import type { ProviderRegistry } from '../providers/provider-registry.js';

/** What the `POST /v1/chat` handler needs. */
export interface ChatRouteOptions {
  providers: ProviderRegistry;
  instruments: ChatInstruments;
  timeoutMs: number;
  captureContent: boolean;
  logger: Logger;
  /** Configured API keys: scrubbed from completions too (an upstream may echo its auth header). */
  secrets?: readonly string[];
}

/** `POST /v1/chat`: validate, resolve the provider (404), call it, answer in chatd's shape. */
export function chatRoute(options: ChatRouteOptions): RequestHandler {
  return async (req: Request, res: Response) => {
    const { provider: name, request } = parseChatBody(req.body);
    const provider = options.providers.get(name);
    if (provider === undefined) {
      throw new HttpError(
        404,
        `unknown provider ${quoteClientValue(name)}; configured: ${options.providers.names().join(', ')}`,
      );
    }

    // The event tests and operators wait for: chatd holds this request (of this trace) from here on.
    const trace = requestTrace(req);
    if (options.logger.isDebugEnabled()) {
      options.logger.debug('chat request', {
        trace_id: trace.traceId,
        provider: provider.name,
        model: request.model,
      });
    }

    // Stop paying for an upstream call nobody will read.
    const clientGone = new AbortController();
    const onClose = (): void => {
      if (!res.writableFinished) clientGone.abort();
    };
    res.once('close', onClose);

    const started = performance.now();
    const result = await callProvider(provider, request, {
      timeoutMs: options.timeoutMs,
      instruments: options.instruments,
      captureContent: options.captureContent,
      signal: clientGone.signal,
      trace,
      secrets: options.secrets ?? [],
    });
    // Winston formats a line before its level filter drops it: skip the work when info is off.
    if (options.logger.isInfoEnabled())
      options.logger.info('chat completed', {
        trace_id: trace.traceId,
        provider: provider.name,
        model: request.model,
        duration_ms: Math.round(performance.now() - started),
        input_tokens: result.usage.inputTokens,
        output_tokens: result.usage.outputTokens,
      });
    res.json({
      provider: provider.name,
      model: result.model,
      content: result.content,
      finish_reason: result.finishReason,
      usage: { input_tokens: result.usage.inputTokens, output_tokens: result.usage.outputTokens },
      ...(result.contentTruncatedChars !== undefined
        ? { content_truncated_chars: result.contentTruncatedChars }
        : {}),
    });
  };
}
