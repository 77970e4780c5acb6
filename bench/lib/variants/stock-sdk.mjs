// Stock OpenTelemetry as its README sets it up: NodeSDK defaults (OTLP export from the OTEL_*
// environment, AsyncLocalStorage context, W3C propagators, parent-based sampling) with the http
// and express instrumentations. Loaded with --import in place of the service's instrument.js.
import { register } from 'node:module';

// ESM apps need the loader hook before anything imports http or express.
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
const { NodeSDK } = await import('@opentelemetry/sdk-node');
const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http');
const { ExpressInstrumentation } = await import('@opentelemetry/instrumentation-express');

const sdk = new NodeSDK({
  instrumentations: [new HttpInstrumentation(), new ExpressInstrumentation()],
});
sdk.start();
process.once('SIGTERM', () => void sdk.shutdown());
