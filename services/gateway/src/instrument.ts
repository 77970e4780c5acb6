// Loaded with `node --import`, before the app, so the instrumentations patch http/express first.
import { createLangfuseSpanProcessor } from '@lakehouse/langfuse-processor';
import { registerInstrumentationHooks, startTelemetry } from '@lakehouse/telemetry';

registerInstrumentationHooks();
startTelemetry({
  serviceName: 'gateway',
  spanProcessors: [createLangfuseSpanProcessor()].filter((p) => p !== undefined && p !== null),
});
