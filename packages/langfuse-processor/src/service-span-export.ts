import type { Context } from '@opentelemetry/api';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createLangfuseSpanProcessor } from './langfuse-translating-span-processor.js';
import { defaultMask } from './mask.js';
import { MaskingSpanExporter } from './masking-span-exporter.js';

/** What a service hands to telemetry's start-up (`TelemetryOptions` fields of the same names). */
export interface ServiceSpanExport {
  spanProcessors: SpanProcessor[];
  /** Raw OTLP spans leave the process only through the same mask and content switch. */
  wrapOtlpSpanExporter: (exporter: SpanExporter) => SpanExporter;
  /** Metric label values (model names a client or an upstream chose) pass the same mask. */
  metricBounds: { maskLabel: (value: string) => string };
}

/**
 * A service's span export: the Langfuse processor when the environment configures a destination
 * (keys, `LANGFUSE_OTLP_ENDPOINT` or `LANGFUSE_TRACE_FILE`), and the masking wrapper for raw OTLP.
 * `contentCapture` is the service's parsed `CONTENT_CAPTURE`; `isTrustedRemoteParent` tells our
 * own hops' parents from clients' (telemetry's function of that name). Throws LangfuseConfigError on a
 * half- or mis-configured Langfuse (a start-up configuration error).
 */
export function langfuseSpanExport(options: {
  contentCapture: boolean;
  isTrustedRemoteParent: (ctx: Context) => boolean;
}): ServiceSpanExport {
  const processor = createLangfuseSpanProcessor({
    contentCapture: options.contentCapture,
    isTrustedRemoteParent: options.isTrustedRemoteParent,
  });
  return {
    spanProcessors: processor === undefined ? [] : [processor],
    wrapOtlpSpanExporter: (exporter) =>
      new MaskingSpanExporter(exporter, { contentCapture: options.contentCapture }),
    metricBounds: { maskLabel: defaultMask },
  };
}
