import type { RequestHandler } from 'express';
import type { WorkerLookup } from '@lakehouse/roster';

/** `GET /healthz`: the process is up. */
export function healthRoute(): RequestHandler {
  return (_req, res) => {
    res.json({ status: 'ok' });
  };
}

/**
 * `GET /readyz`: 200 once the roster (which `sim` answers from) is loaded, else 503 with the kind
 * of problem. Anonymous clients never see its path or the reader's error: the start-up log has
 * them (WorkerLookup.load warns loudly).
 */
export function readyRoute(
  roster: Pick<WorkerLookup, 'ready' | 'publicError' | 'size'>,
): RequestHandler {
  return (_req, res) => {
    if (roster.ready) {
      res.json({ status: 'ready', roster: { size: roster.size } });
    } else {
      res.status(503).json({
        status: 'not ready',
        reason: `roster not loaded: ${roster.publicError ?? 'unknown reason'}`,
      });
    }
  };
}
