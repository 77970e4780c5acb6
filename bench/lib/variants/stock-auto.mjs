// Stock OpenTelemetry zero-code setup: what @opentelemetry/auto-instrumentations-node/register
// does (NodeSDK + getNodeAutoInstrumentations()), plus the ESM loader hook an ESM app needs.
import { register } from 'node:module';

register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
const { NodeSDK } = await import('@opentelemetry/sdk-node');
const { getNodeAutoInstrumentations, getResourceDetectors } =
  await import('@opentelemetry/auto-instrumentations-node');

const sdk = new NodeSDK({
  instrumentations: getNodeAutoInstrumentations(),
  resourceDetectors: getResourceDetectors(),
});
sdk.start();
process.once('SIGTERM', () => void sdk.shutdown());
