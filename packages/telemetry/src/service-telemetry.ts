import { loadConfigOrExit } from './env-config.js';
import { HOP_KEY_VARIABLE, hopSignerFromEnv } from './hop-signature.js';
import { startTelemetry } from './telemetry.js';
import type { Telemetry, TelemetryOptions } from './telemetry.js';

/**
 * What a service's `--import` file does: builds the service's span export with `build` (e.g.
 * the Langfuse processor and the OTLP mask), reads the hop key and starts the SDK. A bad
 * variable (a ConfigError-shaped error from `build`, a bad LAKEHOUSE_HOP_KEY or OTEL_*) writes
 * `<service>: invalid configuration: <VARIABLE>: <why>` and exits 2; any other error from
 * `build` writes `<service>: <message>` and exits 2.
 */
export function instrumentService(
  serviceName: string,
  build: () => Omit<TelemetryOptions, 'serviceName' | 'hopSigner'>,
): Telemetry {
  let options: Omit<TelemetryOptions, 'serviceName' | 'hopSigner'>;
  try {
    options = loadConfigOrExit(serviceName, build);
  } catch (error) {
    process.stderr.write(
      `${serviceName}: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(2);
  }
  const { telemetry, hopSigner } = loadConfigOrExit(serviceName, () => {
    const signer = hopSignerFromEnv(process.env);
    return {
      telemetry: startTelemetry({ serviceName, ...options, hopSigner: signer }),
      hopSigner: signer,
    };
  });
  if (telemetry.enabled && !hopSigner.shared) {
    process.stderr.write(
      `${serviceName}: ${HOP_KEY_VARIABLE} is not set: spans that arrive from the other service are not trusted as parents, so chat generations show as their own roots in Langfuse (npm start and docker compose set it)\n`,
    );
  }
  return telemetry;
}
