import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

// Module specifiers the ESM loader hook wraps: what our instrumentations patch.
const HOOKED_MODULES: readonly string[] = ['express', 'http', 'https'];

let registered = false;

/**
 * Registers @opentelemetry/instrumentation's ESM loader hook (import-in-the-middle) so modules
 * imported afterwards can be patched. Call first thing in the `--import` file, before
 * startTelemetry(). Idempotent; does nothing off the main thread.
 */
export function registerInstrumentationHooks(): void {
  if (registered || !isMainThread) return;
  registered = true;
  // Only the listed modules get wrapped: wrapping every module costs start-up time and breaks
  // some packages. The hook is resolved from this package, which depends on instrumentation.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, {
    data: { include: [...HOOKED_MODULES] },
  });
}
