import { AsyncLocalStorage } from 'node:async_hooks';

/** Default of `UPSTREAM_BYTES_IN_FLIGHT`: upstream response bytes all running calls may hold. */
export const DEFAULT_UPSTREAM_BYTES_IN_FLIGHT = 256 * 1024 * 1024;

/** Reading more of an upstream's answer would take chatd over its process-wide byte budget. */
export class UpstreamBudgetExceededError extends Error {
  readonly limitBytes: number;
  constructor(limitBytes: number) {
    super(
      `chatd is holding its limit of ${limitBytes} bytes of upstream answers ` +
        '(UPSTREAM_BYTES_IN_FLIGHT); retry later',
    );
    this.name = 'UpstreamBudgetExceededError';
    this.limitBytes = limitBytes;
  }
}

interface Lease {
  budget: UpstreamByteBudget;
  bytes: number;
}

// The lease of the provider call running in this async context: the capped fetch reserves into it.
const currentLease = new AsyncLocalStorage<Lease>();

/**
 * Bytes of upstream answers held by provider calls still running, across the process. Bytes are
 * reserved as they are read and released when the call that read them settles (its body, text
 * and parsed JSON are garbage then), so N concurrent big answers cannot add up past the limit.
 */
export class UpstreamByteBudget {
  readonly limitBytes: number;
  private _inFlight = 0;

  constructor(limitBytes: number = DEFAULT_UPSTREAM_BYTES_IN_FLIGHT) {
    this.limitBytes = limitBytes;
  }

  /** Bytes reserved now; 0 when no call holds any. */
  get inFlightBytes(): number {
    return this._inFlight;
  }

  /** Runs one provider call; every byte its fetches reserved is released when it settles. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    const lease: Lease = { budget: this, bytes: 0 };
    try {
      return await currentLease.run(lease, call);
    } finally {
      this._inFlight -= lease.bytes;
      lease.bytes = 0;
    }
  }

  /**
   * Reserves `n` more bytes for the call running in this context, or throws
   * {@link UpstreamBudgetExceededError} and reserves nothing. Outside {@link run} the bytes go on
   * `fallback`, which the caller releases itself.
   */
  reserve(n: number, fallback: { bytes: number }): void {
    if (this._inFlight + n > this.limitBytes)
      throw new UpstreamBudgetExceededError(this.limitBytes);
    this._inFlight += n;
    const lease = currentLease.getStore();
    if (lease !== undefined && lease.budget === this) lease.bytes += n;
    else fallback.bytes += n;
  }

  /** Gives back bytes reserved on a `fallback` of {@link reserve}. */
  release(fallback: { bytes: number }): void {
    this._inFlight -= fallback.bytes;
    fallback.bytes = 0;
  }
}
