import { context } from '@opentelemetry/api';
import { ExportResultCode, suppressTracing } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/** Why spans were dropped before reaching the backend. */
export type DropReason = 'queue_full' | 'export_failed';

/** Settings of {@link BoundedExportQueue}. */
export interface BoundedExportQueueOptions<T> {
  readonly exporter: SpanExporter;
  /** Turns queued items into spans at export time, off the caller's path; may drop items. */
  readonly toSpans: (items: T[]) => ReadableSpan[];
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
  readonly scheduledDelayMillis: number;
  readonly exportTimeoutMillis: number;
  readonly onDrop: (reason: DropReason, count: number) => void;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * A small batching queue in front of a SpanExporter: bounded (overflow is dropped and reported,
 * never blocks), one export in flight at a time, each export bounded by a timeout. Unlike the
 * SDK's BatchSpanProcessor it reports every drop, which is why it exists.
 */
export class BoundedExportQueue<T> {
  private readonly _o: BoundedExportQueueOptions<T>;
  private _queue: T[] = [];
  private _timer: NodeJS.Timeout | undefined;
  private _inFlight: Promise<void> | undefined;
  private _closed = false;

  constructor(options: BoundedExportQueueOptions<T>) {
    this._o = options;
  }

  /** Spans waiting for export. */
  get size(): number {
    return this._queue.length;
  }

  /** Enqueues one item; synchronous and O(1). Returns false (and reports) when it was dropped. */
  add(item: T): boolean {
    if (this._closed) return false;
    if (this._queue.length >= this._o.maxQueueSize) {
      this._o.onDrop('queue_full', 1);
      return false;
    }
    this._queue.push(item);
    if (this._queue.length >= this._o.maxExportBatchSize) this._kick();
    else this._schedule();
    return true;
  }

  /** Exports everything queued, bounded by `timeoutMillis`; what is left stays queued. Never rejects. */
  async flush(timeoutMillis: number): Promise<void> {
    const deadline = Date.now() + timeoutMillis;
    while (Date.now() < deadline) {
      if (this._inFlight !== undefined) {
        await Promise.race([this._inFlight, delay(deadline - Date.now())]);
        continue;
      }
      if (this._queue.length === 0) return;
      this._kick();
    }
  }

  /** Flushes within `timeoutMillis`, then drops (and reports) what is left. Idempotent. */
  async close(timeoutMillis: number): Promise<void> {
    if (this._closed) return;
    await this.flush(timeoutMillis);
    this._closed = true;
    if (this._timer !== undefined) clearTimeout(this._timer);
    const left = this._queue.length;
    this._queue = [];
    if (left > 0) this._o.onDrop('export_failed', left);
  }

  private _schedule(): void {
    if (this._timer !== undefined || this._inFlight !== undefined) return;
    this._timer = setTimeout(() => {
      this._timer = undefined;
      this._kick();
    }, this._o.scheduledDelayMillis);
    // Never keep the process alive just to export telemetry.
    this._timer.unref();
  }

  private _kick(): void {
    if (this._inFlight !== undefined || this._queue.length === 0) return;
    if (this._timer !== undefined) {
      clearTimeout(this._timer);
      this._timer = undefined;
    }
    const batch = this._queue.splice(0, this._o.maxExportBatchSize);
    this._inFlight = this._export(batch).finally(() => {
      this._inFlight = undefined;
      if (this._closed) return;
      if (this._queue.length >= this._o.maxExportBatchSize) this._kick();
      else if (this._queue.length > 0) this._schedule();
    });
  }

  private async _export(items: T[]): Promise<void> {
    let batch: ReadableSpan[];
    try {
      batch = this._o.toSpans(items);
    } catch {
      this._o.onDrop('export_failed', items.length);
      return;
    }
    if (batch.length === 0) return;
    const result = await new Promise<ExportResult>((resolve) => {
      const timer = setTimeout(
        () => resolve({ code: ExportResultCode.FAILED, error: new Error('export timed out') }),
        this._o.exportTimeoutMillis,
      );
      timer.unref();
      const done = (r: ExportResult): void => {
        clearTimeout(timer);
        resolve(r);
      };
      // Prevent the exporter's own HTTP request from producing spans (an export feedback loop).
      context.with(suppressTracing(context.active()), () => {
        try {
          this._o.exporter.export(batch, done);
        } catch (error) {
          done({
            code: ExportResultCode.FAILED,
            error: error instanceof Error ? error : new Error(String(error)),
          });
        }
      });
    });
    if (result.code !== ExportResultCode.SUCCESS) this._o.onDrop('export_failed', batch.length);
  }
}
