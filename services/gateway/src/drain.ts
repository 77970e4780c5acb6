import type { RequestHandler, Response } from 'express';
import { resolveTraceId, TRACE_ID_RESPONSE_HEADER } from '@lakehouse/telemetry';

/** Why a hop was aborted by {@link DrainGate.abortSessions}: its text ends the attempt's error. */
const SHUTDOWN_ABORT_REASON = 'gateway shutting down (SHUTDOWN_GRACE_MS over)';

/**
 * The SIGTERM drain, decided by the router: routes that begin sessions carry
 * {@link DrainGate.sessionGate}, so whatever path spelling reaches `/v1/iterate` (`/V1/ITERATE`,
 * `/v1/iterate/`) is gated and counted the same way. A session counts until it has ended (its row
 * emitted) AND its response has closed, so a client that hung up does not let the gateway exit
 * under its session. New sessions are refused 503 before they begin (no row, no trace).
 */
export class DrainGate {
  private _draining = false;
  private _sessions = 0;
  private _onIdle: (() => void) | undefined;
  private readonly _idleWaiters: Array<() => void> = [];
  private readonly _abort = new AbortController();
  private readonly _holders = new WeakMap<Response, (work: Promise<unknown>) => void>();

  /** True once {@link startDraining} was called. */
  get draining(): boolean {
    return this._draining;
  }

  /** Sessions that began and have not ended or not answered yet. */
  get sessionsInFlight(): number {
    return this._sessions;
  }

  /** Aborted by {@link abortSessions}: every hop of every session carries it. */
  get signal(): AbortSignal {
    return this._abort.signal;
  }

  /** Refuses new sessions from now on; `onIdle` runs once no session is in flight (maybe now). */
  startDraining(onIdle: () => void): void {
    this._draining = true;
    this._onIdle = onIdle;
    if (this._sessions === 0) this._idle();
  }

  /**
   * Ends the running sessions' hops (grace period over): each session ends `infra_error`, writes
   * its row and answers. Idempotent.
   */
  abortSessions(): void {
    this._abort.abort(new Error(SHUTDOWN_ABORT_REASON));
  }

  /** Resolves once draining and no session is in flight. */
  idle(): Promise<void> {
    if (this._draining && this._sessions === 0) return Promise.resolve();
    return new Promise((resolve) => this._idleWaiters.push(resolve));
  }

  /** Keeps the session of `res` counted until `work` settles too; returns `work`. */
  hold<T>(res: Response, work: Promise<T>): Promise<T> {
    this._holders.get(res)?.(work);
    return work;
  }

  /** Middleware for session routes: 503 while draining, else counts the session (see {@link hold}). */
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
      let closed = false;
      let running = 0;
      let released = false;
      const release = (): void => {
        if (released || !closed || running > 0) return;
        released = true;
        this._sessions -= 1;
        if (this._draining && this._sessions === 0) this._idle();
      };
      this._holders.set(res, (work) => {
        running += 1;
        const done = (): void => {
          running -= 1;
          release();
        };
        work.then(done, done);
      });
      res.once('close', () => {
        closed = true;
        release();
      });
      next();
    };
  }

  private _idle(): void {
    const onIdle = this._onIdle;
    this._onIdle = undefined;
    onIdle?.();
    for (const resolve of this._idleWaiters.splice(0)) resolve();
  }
}
