// Loaded with `node --import`, before the app, so the instrumentations patch http/express first.
import {
  createLangfuseSpanProcessor,
  defaultMask,
  MaskingSpanExporter,
} from '@lakehouse/langfuse-processor';
import {
  contentCaptureEnabled,
  registerInstrumentationHooks,
  startTelemetry,
} from '@lakehouse/telemetry';

let langfuse: ReturnType<typeof createLangfuseSpanProcessor>;
try {
  langfuse = createLangfuseSpanProcessor();
} catch (error) {
  // A half-configured Langfuse is a start-up configuration error, like a bad env variable.
  console.error(`chatd: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
}

registerInstrumentationHooks();
startTelemetry({
  serviceName: 'chatd',
  spanProcessors: langfuse === undefined ? [] : [langfuse],
  // Raw OTLP spans leave the process only through the same mask as Langfuse's.
  wrapOtlpSpanExporter: (exporter) =>
    new MaskingSpanExporter(exporter, { contentCapture: contentCaptureEnabled() }),
  // Label values (model names a client or an upstream chose) pass the same mask, once each.
  metricBounds: { maskLabel: defaultMask },
});
