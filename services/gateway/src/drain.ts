import type { RequestHandler } from 'express';
import { resolveTraceId, TRACE_ID_RESPONSE_HEADER } from '@lakehouse/telemetry';

/**
 * The SIGTERM drain, decided by the router: routes that begin sessions carry
 * {@link DrainGate.sessionGate}, so whatever path spelling reaches `/v1/iterate` (`/V1/ITERATE`,
 * `/v1/iterate/`) is gated and counted the same way. Sessions in flight run to the end; new ones
 * are refused 503 before they begin (no row, no trace).
 */
export class DrainGate {
  private _draining = false;
  private _sessions = 0;
  private _onIdle: (() => void) | undefined;

  /** True once {@link startDraining} was called. */
  get draining(): boolean {
    return this._draining;
  }

  /** Sessions that began and have not answered yet. */
  get sessionsInFlight(): number {
    return this._sessions;
  }

  /** Refuses new sessions from now on; `onIdle` runs once no session is in flight (maybe now). */
  startDraining(onIdle: () => void): void {
    this._draining = true;
    this._onIdle = onIdle;
    if (this._sessions === 0) this._idle();
  }

  /** Middleware for session routes: 503 while draining, else counts the session until it answers. */
  sessionGate(): RequestHandler {
    return (req, res, next) => {
      if (this._draining) {
        const traceId = resolveTraceId(req);
        res.setHeader(TRACE_ID_RESPONSE_HEADER, traceId);
        res.setHeader('retry-after', '1');
        res.setHeader('connection', 'close');
        res.status(503).json({
          error: 'gateway is shutting down; retry on another instance',
          trace_id: traceId,
        });
        return;
      }
      this._sessions += 1;
      res.once('close', () => {
        this._sessions -= 1;
        if (this._draining && this._sessions === 0) this._idle();
      });
      next();
    };
  }

  private _idle(): void {
    const onIdle = this._onIdle;
    this._onIdle = undefined;
    onIdle?.();
  }
}
