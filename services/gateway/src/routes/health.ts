import type { Request, RequestHandler, Response } from 'express';
import type { RosterView } from '../validators/types.js';

/** `GET /healthz`: 200 while the process serves requests. */
export function healthzRoute(): RequestHandler {
  return (_req: Request, res: Response) => {
    res.status(200).json({ status: 'ok' });
  };
}

/** What `GET /readyz` checks. */
export interface ReadyzRouteOptions {
  roster: Pick<RosterView, 'ready' | 'error'>;
  chatdUrl: string;
  /** Bound of the chatd probe. */
  timeoutMs: number;
}

/**
 * `GET /readyz`: 200 only when the roster is loaded and chatd's `/healthz` answers 2xx within
 * the readiness timeout; else 503 `{status:"not ready", reasons}`.
 */
export function readyzRoute(options: ReadyzRouteOptions): RequestHandler {
  const { roster } = options;
  return async (_req: Request, res: Response) => {
    const reasons: string[] = [];
    if (!roster.ready) reasons.push(`roster not loaded: ${roster.error ?? 'unknown reason'}`);
    const chatd = await probe(`${options.chatdUrl}/healthz`, options.timeoutMs);
    if (chatd !== undefined) reasons.push(chatd);
    if (reasons.length === 0) res.status(200).json({ status: 'ready' });
    else res.status(503).json({ status: 'not ready', reasons });
  };
}

// Global fetch (undici) is not traced by the http instrumentation, so probes stay out of traces.
async function probe(url: string, timeoutMs: number): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.ok ? undefined : `chatd not healthy: ${url} answered ${res.status}`;
  } catch (err) {
    const why =
      err instanceof Error && err.name === 'TimeoutError'
        ? `no answer in ${timeoutMs} ms`
        : errorCause(err);
    return `chatd unreachable: ${url} (${why})`;
  }
}

function errorCause(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // undici hides the useful part ("ECONNREFUSED", "bad port") in `cause`.
  const cause = err.cause as { code?: unknown; message?: unknown } | undefined;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return err.message;
}
