import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import {
  register as registerSyncHooks,
  supportsSyncHooks,
} from 'import-in-the-middle/register-hooks.mjs';

// Module specifiers the ESM loader hook wraps: what our instrumentations patch.
const HOOKED_MODULES: readonly string[] = ['express', 'http', 'https'];

/** Which Node API carries the loader hook: the in-thread one, the off-thread one, or none. */
export type InstrumentationHookApi = 'module.registerHooks' | 'module.register' | 'none';

let registered: InstrumentationHookApi | undefined;

/**
 * Registers import-in-the-middle's ESM loader hook (what @opentelemetry/instrumentation uses) so
 * modules imported afterwards can be patched. Call first thing in the `--import` file, before
 * startTelemetry(). Uses `module.registerHooks()` where Node runs it correctly (22.22.3+,
 * 24.11.1+, 26+): `module.register()` is runtime-deprecated on Node 26. Older Node (20 here)
 * keeps `module.register()`. Idempotent; returns the API used ('none' off the main thread).
 */
export function registerInstrumentationHooks(): InstrumentationHookApi {
  if (!isMainThread) return 'none';
  if (registered !== undefined) return registered;
  // Only the listed modules get wrapped: wrapping every module costs start-up time and breaks
  // some packages.
  if (supportsSyncHooks()) {
    registerSyncHooks({ include: [...HOOKED_MODULES] });
    registered = 'module.registerHooks';
  } else {
    // Resolved from this package, which depends on instrumentation (its hook.mjs re-exports
    // import-in-the-middle's).
    register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, {
      data: { include: [...HOOKED_MODULES] },
    });
    registered = 'module.register';
  }
  return registered;
}
