import { setTimeout as delay } from 'node:timers/promises';

/**
 * Waits for an event: polls `probe` until it returns a value other than undefined, and fails
 * after `timeoutMs` naming `what`. The bound fails a test that waits forever; it is not a timing
 * assertion.
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(20);
  }
}
