// Loaded with `node --import`, before any instrumented module, so the hooks see express/http.
import { createLangfuseSpanProcessor } from '@lakehouse/langfuse-processor';
import { registerInstrumentationHooks, startTelemetry } from '@lakehouse/telemetry';

type SpanProcessor = NonNullable<ReturnType<typeof createLangfuseSpanProcessor>>;

registerInstrumentationHooks();
startTelemetry({
  serviceName: 'chatd',
  spanProcessors: [createLangfuseSpanProcessor()].filter(
    (p): p is SpanProcessor => p !== undefined,
  ),
});
