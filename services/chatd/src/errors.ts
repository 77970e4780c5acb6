import { defaultMask } from '@lakehouse/langfuse-processor';

/**
 * An error with an HTTP status that the error middleware turns into `{error: message}`.
 * The message is sent to the client, so it must never carry secrets.
 */
export class HttpError extends Error {
  readonly status: number;
  override readonly cause: unknown;

  constructor(status: number, message: string, options: { cause?: unknown } = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.cause = options.cause;
  }
}

/**
 * A failed provider call, already classified: `status` is 400 (the provider refused the request
 * as invalid: the caller's error), 502 (provider error), 503 (chatd's own upstream byte budget is
 * full: retryable) or 504 (timeout), and `errorType` is the
 * low-cardinality `error.type` recorded on spans and metrics. The message is masked here, where
 * every provider error is made (upstreams echo keys of every shape in their error texts), so the
 * answer, the log line and the span all get the masked text.
 */
export class ProviderError extends HttpError {
  readonly errorType: string;

  constructor(
    status: 400 | 502 | 503 | 504,
    message: string,
    errorType: string,
    options: { cause?: unknown } = {},
  ) {
    super(status, defaultMask(message), options);
    this.name = 'ProviderError';
    this.errorType = errorType;
  }
}

/** Removes every occurrence of each secret from `text`; upstream errors sometimes echo keys. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    if (s !== undefined && s.length >= 4) out = out.split(s).join('[redacted]');
  }
  return out;
}
