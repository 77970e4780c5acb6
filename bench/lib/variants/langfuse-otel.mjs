// Langfuse's own OTel path as its docs set it up: NodeSDK with @langfuse/otel's
// LangfuseSpanProcessor (keys and base URL from LANGFUSE_*), plus the http and express
// instrumentations. It exports every span (shouldExportSpan), as ours must to build the tree.
import { register } from 'node:module';

register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
const { NodeSDK } = await import('@opentelemetry/sdk-node');
const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http');
const { ExpressInstrumentation } = await import('@opentelemetry/instrumentation-express');
const { LangfuseSpanProcessor } = await import('@langfuse/otel');

const sdk = new NodeSDK({
  spanProcessors: [new LangfuseSpanProcessor({ shouldExportSpan: () => true })],
  instrumentations: [new HttpInstrumentation(), new ExpressInstrumentation()],
});
sdk.start();
process.once('SIGTERM', () => void sdk.shutdown());
