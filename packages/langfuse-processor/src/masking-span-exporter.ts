import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { defaultMask, sanitizeAttributes } from './mask.js';
import { copySpan } from './copy-span.js';
import type { CopyOptions } from './copy-span.js';

/** Options of {@link MaskingSpanExporter}. */
export interface MaskingSpanExporterOptions {
  /** Applied to every string attribute, event attribute and status message (default {@link defaultMask}). */
  mask?: (value: string) => string;
  /** false drops prompt/response attributes (default true; services pass their CONTENT_CAPTURE switch). */
  contentCapture?: boolean;
}

/**
 * Wraps any span exporter (e.g. the raw OTLP one) so the spans it sends pass through the same
 * mask and content-capture switch as the Langfuse processor's. Exports copies; never mutates.
 */
export class MaskingSpanExporter implements SpanExporter {
  private readonly _inner: SpanExporter;
  private readonly _options: CopyOptions;

  constructor(inner: SpanExporter, options: MaskingSpanExporterOptions = {}) {
    this._inner = inner;
    this._options = {
      mask: options.mask ?? defaultMask,
      contentCapture: options.contentCapture ?? true,
    };
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    const { mask, contentCapture } = this._options;
    const onMaskError = (): void => undefined;
    const masked = spans.map((span) =>
      copySpan(
        span,
        sanitizeAttributes(span.attributes, mask, contentCapture, onMaskError),
        span.parentSpanContext,
        this._options,
      ),
    );
    this._inner.export(masked, resultCallback);
  }

  shutdown(): Promise<void> {
    return this._inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this._inner.forceFlush?.() ?? Promise.resolve();
  }
}
