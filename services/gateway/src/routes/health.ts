import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'winston';
import type { RosterView } from '../validators/types.js';

/** `GET /healthz`: 200 while the process serves requests. */
export function healthzRoute(): RequestHandler {
  return (_req: Request, res: Response) => {
    res.status(200).json({ status: 'ok' });
  };
}

/** What `GET /readyz` checks. */
export interface ReadyzRouteOptions {
  roster: Pick<RosterView, 'ready' | 'error' | 'publicError'>;
  chatdUrl: string;
  /** Bound of the chatd probe. */
  timeoutMs: number;
  /** Gets the details (paths, URLs, reader errors) the anonymous answer leaves out. */
  logger: Pick<Logger, 'warn'>;
  /** True while the gateway drains after SIGTERM: not ready, whatever else holds. */
  draining?: () => boolean;
}

/**
 * `GET /readyz`: 200 only when the roster is loaded and chatd's `/healthz` answers 2xx within
 * the readiness timeout; else 503 `{status:"not ready", reasons}`. Reasons name the problem
 * only; paths, URLs and reader errors go to the log, once per change.
 */
export function readyzRoute(options: ReadyzRouteOptions): RequestHandler {
  const { roster, logger } = options;
  const url = `${options.chatdUrl}/healthz`;
  let lastLogged = '';
  return async (_req: Request, res: Response) => {
    if (options.draining?.() === true) {
      res.setHeader('retry-after', '1');
      res.status(503).json({ status: 'not ready', reasons: ['shutting down'] });
      return;
    }
    const reasons: string[] = [];
    const details: string[] = [];
    if (!roster.ready) {
      reasons.push(`roster not loaded: ${roster.publicError ?? 'unknown reason'}`);
      details.push(`roster: ${roster.error ?? 'unknown reason'}`);
    }
    const chatd = await probe(url, options.timeoutMs);
    if (chatd !== undefined) {
      reasons.push(chatd);
      details.push(`${chatd} (${url})`);
    }
    // Probes come every few seconds: log what changed, not every answer.
    const logged = details.join('; ');
    if (logged !== lastLogged) {
      lastLogged = logged;
      if (logged !== '') logger.warn('not ready', { reasons: details });
    }
    if (reasons.length === 0) res.status(200).json({ status: 'ready' });
    else res.status(503).json({ status: 'not ready', reasons });
  };
}

// A plain fetch with no trace headers and no span: probes stay out of traces.
async function probe(url: string, timeoutMs: number): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.ok ? undefined : `chatd not healthy: answered ${res.status}`;
  } catch (err) {
    const why =
      err instanceof Error && err.name === 'TimeoutError'
        ? `no answer in ${timeoutMs} ms`
        : errorCause(err);
    return `chatd unreachable: ${why}`;
  }
}

function errorCause(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // undici hides the useful part ("ECONNREFUSED", "bad port") in `cause`.
  const cause = err.cause as { code?: unknown; message?: unknown } | undefined;
  if (typeof cause?.code === 'string') return cause.code;
  // Anything else may carry the URL or a host name: the log has it, the answer does not.
  return 'connection failed';
}
