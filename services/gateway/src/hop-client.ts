import axios from 'axios';
import type { AxiosResponse } from 'axios';
import type { Context } from '@opentelemetry/api';
import { defaultMask } from '@lakehouse/langfuse-processor';
import { boundText, hopHeaders, quoteClientValue } from '@lakehouse/telemetry';
import type { IterateRequest } from './iterate-request.js';
import type { ValidateHopResult } from './iterate-types.js';
import { buildMessages } from './prompt.js';
import type { ValidationIssue } from './validators/types.js';

/**
 * A failed hop (unreachable, timed out, refused, malformed answer); the attempt is an infra_error.
 * Message and summary are masked here, where every hop error is made: the callee's error text
 * may quote a key an upstream echoed, and it goes on to the answer, the row, logs and spans.
 */
export class HopError extends Error {
  /** chatd's 4xx status when it refused the request as the caller's mistake. */
  readonly callerStatus: number | undefined;
  /** The message without the callee's error text (which may quote prompts or model output). */
  readonly summary: string;
  constructor(message: string, options: { callerStatus?: number; summary?: string } = {}) {
    super(defaultMask(message));
    this.name = 'HopError';
    this.callerStatus = options.callerStatus;
    this.summary = options.summary === undefined ? this.message : defaultMask(options.summary);
  }
}

/** Longest part of a callee's error text quoted in a hop error. */
const MAX_HOP_ERROR_CHARS = 500;

/** Where the two hops go, how long each may take, and how big a chat request may be. */
export interface HopClientOptions {
  chatdUrl: string;
  /** The validate hop's base URL (this gateway's own listener). */
  selfUrl: string;
  chatTimeoutMs: number;
  validateTimeoutMs: number;
  /** chatd's body limit (BODY_LIMIT_BYTES, the same on both services): a bigger chat hop is refused here. */
  chatBodyLimitBytes: number;
  /** Aborts every hop in progress or to come (the drain's, at the end of the shutdown grace). */
  abortSignal?: AbortSignal;
}

/** The JSON body of the chat hop for `prompt`, serialised once. */
export function chatHopBody(req: IterateRequest, prompt: string): string {
  return JSON.stringify({
    provider: req.provider,
    model: req.model,
    messages: buildMessages(req.system, prompt),
    temperature: req.temperature,
    max_tokens: req.maxTokens,
  });
}

// chatd forwards at most 2 Mi characters of content (6 bytes each at most, JSON-escaped); a
// reply or report past this is not an answer, and axios refuses it as ERR_BAD_RESPONSE.
const MAX_HOP_BODY_BYTES = 16 * 1024 * 1024;

/**
 * The HTTP client of both hops of an attempt (gateway → chatd `/v1/chat`, gateway → its own
 * `/v1/validate`). Each call carries the span in its Context as the callee's parent. Rejects only with
 * {@link HopError}.
 */
export class HopClient {
  private readonly _options: HopClientOptions;

  constructor(options: HopClientOptions) {
    this._options = options;
  }

  private _post(
    ctx: Context,
    url: string,
    body: unknown,
    timeoutMs: number,
    hop: string,
  ): Promise<AxiosResponse<unknown>> {
    return post(ctx, url, body, timeoutMs, hop, this._options.abortSignal);
  }

  /** Asks chatd for a completion of `prompt`; resolves to its text. */
  async chat(req: IterateRequest, prompt: string, ctx: Context): Promise<string> {
    const body = chatHopBody(req, prompt);
    const bytes = Buffer.byteLength(body);
    if (bytes > this._options.chatBodyLimitBytes) {
      // chatd would answer 413; a retry's feedback can push a prompt that fitted over the limit.
      const summary = `the chat request (${bytes} bytes) exceeds BODY_LIMIT_BYTES (${this._options.chatBodyLimitBytes})`;
      throw new HopError(summary, { callerStatus: 413, summary });
    }
    const res = await this._post(
      ctx,
      `${this._options.chatdUrl}/v1/chat`,
      body,
      this._options.chatTimeoutMs,
      'chatd',
    );
    if (res.status >= 200 && res.status < 300) {
      const content = (res.data as { content?: unknown } | null)?.content;
      if (typeof content !== 'string')
        throw new HopError('chatd answered without a string content');
      return content;
    }
    if (res.status === 404) {
      // Client values are quoted bounded: a 900 KB provider name costs a few dozen bytes here.
      const summary = `provider ${quoteClientValue(req.provider)} rejected by chatd (404)`;
      throw new HopError(`${summary}: ${errorText(res.data)}`, { callerStatus: 404, summary });
    }
    if (res.status >= 400 && res.status < 500) {
      const summary = `chatd rejected the request (${res.status})`;
      throw new HopError(`${summary}: ${errorText(res.data)}`, {
        callerStatus: res.status,
        summary,
      });
    }
    const summary = `chatd failed (${res.status})`;
    throw new HopError(`${summary}: ${errorText(res.data)}`, { summary });
  }

  /**
   * Validates the artifact whose JSON text is `artifactJson` (as extracted, sent as is) through
   * the gateway's own `/v1/validate`.
   */
  async validate(
    req: IterateRequest,
    artifactJson: string,
    ctx: Context,
  ): Promise<ValidateHopResult> {
    const res = await this._post(
      ctx,
      `${this._options.selfUrl}/v1/validate`,
      `{"kind":${JSON.stringify(req.kind)},"artifact":${artifactJson},"context":${JSON.stringify(req.context)}}`,
      this._options.validateTimeoutMs,
      'validate hop',
    );
    const data = res.data as Record<string, unknown> | null;
    if (res.status === 200 && data !== null && data['ok'] === true) {
      const grounded = data['grounded_in_roster'];
      return {
        ok: true,
        report: {
          ok: true,
          warnings: Array.isArray(data['warnings']) ? (data['warnings'] as unknown[]) : [],
          grounded_in_roster: typeof grounded === 'boolean' ? grounded : null,
        },
      };
    }
    if (res.status === 422 && data !== null && Array.isArray(data['errors'])) {
      return { ok: false, errors: data['errors'] as ValidationIssue[] };
    }
    const summary = `validate hop failed (${res.status})`;
    throw new HopError(`${summary}: ${errorText(res.data)}`, { summary });
  }
}

function errorText(body: unknown): string {
  if (typeof body === 'object' && body !== null && 'error' in body) {
    const e = (body as { error: unknown }).error;
    if (typeof e === 'string') return boundText(e, MAX_HOP_ERROR_CHARS);
  }
  if (typeof body === 'string' && body.length > 0) return boundText(body, 200);
  return 'no error message';
}

function describeAxiosError(
  err: unknown,
  hop: string,
  timeoutMs: number,
  abortSignal: AbortSignal | undefined,
): string {
  if (abortSignal?.aborted === true) {
    const reason: unknown = abortSignal.reason;
    return `${hop} aborted: ${reason instanceof Error ? reason.message : String(reason)}`;
  }
  if (axios.isAxiosError(err)) {
    if (err.code === 'ECONNABORTED' || err.code === 'ETIMEDOUT' || err.code === 'ERR_CANCELED') {
      return `${hop} timed out after ${timeoutMs} ms`;
    }
    return `${hop} unreachable: ${err.code ?? err.message}`;
  }
  return `${hop} failed: ${err instanceof Error ? err.message : String(err)}`;
}

async function post(
  ctx: Context,
  url: string,
  body: unknown,
  timeoutMs: number,
  hop: string,
  abortSignal: AbortSignal | undefined,
): Promise<AxiosResponse<unknown>> {
  // axios's timeout is per socket inactivity; the signal bounds the whole exchange.
  const bound = hopSignal(timeoutMs, abortSignal);
  try {
    return await axios.post<unknown>(url, body, {
      timeout: timeoutMs,
      signal: bound.signal,
      validateStatus: () => true,
      // traceparent + x-lakehouse-trace-id + the hop signature of the span in ctx (the attempt).
      headers: { 'content-type': 'application/json', ...hopHeaders(ctx) },
      maxContentLength: MAX_HOP_BODY_BYTES,
    });
  } catch (err) {
    throw new HopError(describeAxiosError(err, hop, timeoutMs, abortSignal));
  } finally {
    bound.done();
  }
}

/**
 * One signal for one hop: aborted after `timeoutMs` or when `outer` (the drain's) aborts;
 * `done()` clears the timer and the listener. Not `AbortSignal.any([AbortSignal.timeout(…), outer])`:
 * on Node 20 each composite stays registered on the long-lived drain signal (the gateway's heap
 * grew ~6 MB per 10,000 sessions, bench figure 6), and each timeout signal keeps its timer for
 * the full timeout after the hop is over (16 µs per hop against 3 µs for this).
 */
export function hopSignal(
  timeoutMs: number,
  outer: AbortSignal | undefined,
): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException('The hop timed out', 'TimeoutError')),
    timeoutMs,
  );
  timer.unref();
  if (outer === undefined) return { signal: controller.signal, done: () => clearTimeout(timer) };
  const onAbort = (): void => controller.abort(outer.reason);
  if (outer.aborted) onAbort();
  else outer.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    done: () => {
      clearTimeout(timer);
      outer.removeEventListener('abort', onAbort);
    },
  };
}
