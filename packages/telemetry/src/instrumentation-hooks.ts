import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

/** Module specifiers the ESM loader hook wraps by default: what our instrumentations patch. */
export const DEFAULT_HOOKED_MODULES: readonly string[] = ['express', 'http', 'https'];

/** Options of {@link registerInstrumentationHooks}. */
export interface InstrumentationHooksOptions {
  /** Specifiers to intercept (node: prefixes are added for built-ins). Default {@link DEFAULT_HOOKED_MODULES}. */
  include?: readonly string[];
}

let registered = false;

/**
 * Registers @opentelemetry/instrumentation's ESM loader hook (import-in-the-middle) so modules
 * imported afterwards can be patched. Call first thing in the `--import` file, before
 * startTelemetry(). Idempotent; does nothing off the main thread.
 */
export function registerInstrumentationHooks(options: InstrumentationHooksOptions = {}): void {
  if (registered || !isMainThread) return;
  registered = true;
  // Only the listed modules get wrapped: wrapping every module costs start-up time and breaks
  // some packages. The hook is resolved from this package, which depends on instrumentation.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, {
    data: { include: [...(options.include ?? DEFAULT_HOOKED_MODULES)] },
  });
}
