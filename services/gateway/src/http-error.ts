/** An error with an HTTP status; the error middleware answers `{error: message}` with it. */
export class HttpError extends Error {
  readonly status: number;
  /** Extra JSON fields merged into the error body (e.g. iterate's history). */
  readonly body: Record<string, unknown> | undefined;
  constructor(
    status: number,
    message: string,
    options: { cause?: unknown; body?: Record<string, unknown> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'HttpError';
    this.status = status;
    this.body = options.body;
  }
}
