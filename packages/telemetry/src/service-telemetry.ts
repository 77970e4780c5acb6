import { registerInstrumentationHooks } from './instrumentation-hooks.js';
import { startTelemetry } from './telemetry.js';
import type { Telemetry, TelemetryOptions } from './telemetry.js';

/**
 * What a service's `--import` file does: builds the service's span export with `build` (e.g.
 * the Langfuse processor and the OTLP mask), registers the ESM loader hook and starts the SDK.
 * A `build` that throws is a start-up configuration error: `<service>: <message>` goes to stderr
 * and the process exits 2.
 */
export function instrumentService(
  serviceName: string,
  build: () => Omit<TelemetryOptions, 'serviceName'>,
): Telemetry {
  let options: Omit<TelemetryOptions, 'serviceName'>;
  try {
    options = build();
  } catch (error) {
    process.stderr.write(
      `${serviceName}: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(2);
  }
  registerInstrumentationHooks();
  return startTelemetry({ serviceName, ...options });
}
