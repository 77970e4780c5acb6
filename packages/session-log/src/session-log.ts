import { diag } from '@opentelemetry/api';
import type { Counter, Meter } from '@opentelemetry/api';
import type { Logger } from '@opentelemetry/api-logs';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import type {
  LogRecordExporter,
  LogRecordProcessor,
  ReadableLogRecord,
  SdkLogRecord,
} from '@opentelemetry/sdk-logs';
import { SessionLogExporter, warnOncePerCode } from './session-log-exporter.js';
import type { SessionLogWriteError } from './session-log-exporter.js';
import {
  SESSION_RECORD_SCHEMA,
  encodeSessionRow,
  formatSessionTimestamp,
} from './session-record.js';
import type { SessionRecord } from './session-record.js';

/** Default bound of rows waiting to be written; past it rows are dropped and counted. */
const DEFAULT_SESSION_LOG_QUEUE_SIZE = 10_000;

const MAX_EXPORT_BATCH_SIZE = 512;
// A wedged disk (hung NFS write) must not hang the gateway's shutdown forever.
const FLUSH_TIMEOUT_MILLIS = 30_000;

function bounded(promise: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, FLUSH_TIMEOUT_MILLIS);
    timer.unref();
  });
  return Promise.race([promise.catch(() => undefined), timeout]).finally(() => clearTimeout(timer));
}
const DEFAULT_SCHEDULED_DELAY_MILLIS = 200;

/** Options of {@link createSessionLog}; `path` empty or undefined disables the log. */
export interface SessionLogOptions {
  path: string | undefined;
  /** Producer name written in `daemon`; default `gateway`. */
  daemon?: string;
  logger?: { warn(msg: string, meta?: Record<string, unknown>): void };
  meter?: Meter;
  /** Rows queued before drops start; default 10,000. */
  maxQueueSize?: number;
  /** Batch delay in milliseconds; default 200. */
  scheduledDelayMillis?: number;
}

/** What {@link createSessionLog} emits: a record without the producer-owned fields. */
export type SessionLogEntry = Omit<SessionRecord, 'timestamp' | 'daemon'> & { timestamp?: string };

/** Row counters: emitted = written + failed + dropped + still queued. */
export interface SessionLogStats {
  emitted: number;
  written: number;
  dropped: number;
  failed: number;
}

/** The gateway's handle on the session log. `emit` never throws and never waits. */
export interface SessionLog {
  readonly enabled: boolean;
  emit(record: SessionLogEntry): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
  stats(): SessionLogStats;
}

const NOOP_SESSION_LOG: SessionLog = Object.freeze({
  enabled: false,
  emit(): void {},
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
  stats: () => ({ emitted: 0, written: 0, dropped: 0, failed: 0 }),
});

// Counts rows whose export has settled, so the processor knows how many are still queued.
// It reports SUCCESS upstream even on failure: the failure was already warned about and
// counted, and BatchLogRecordProcessor would otherwise log every failed batch again.
class SettleCountingExporter implements LogRecordExporter {
  settled = 0;
  private readonly _exporter: LogRecordExporter;

  constructor(exporter: LogRecordExporter) {
    this._exporter = exporter;
  }

  export(logs: ReadableLogRecord[], resultCallback: (result: ExportResult) => void): void {
    this._exporter.export(logs, () => {
      this.settled += logs.length;
      resultCallback({ code: ExportResultCode.SUCCESS });
    });
  }

  forceFlush(): Promise<void> {
    return this._exporter.forceFlush();
  }

  shutdown(): Promise<void> {
    return this._exporter.shutdown();
  }
}

interface SessionLogProcessorOptions {
  exporter: LogRecordExporter;
  maxQueueSize: number;
  scheduledDelayMillis: number;
  onDrop: () => void;
}

// Composes the SDK's BatchLogRecordProcessor and puts an exact, counted bound in front of it
// (the SDK's own queue drops silently unless self-observability metrics are wired).
class SessionLogProcessor implements LogRecordProcessor {
  accepted = 0;
  private readonly _counter: SettleCountingExporter;
  private readonly _inner: BatchLogRecordProcessor;
  private readonly _maxQueueSize: number;
  private readonly _onDrop: () => void;
  private _closed = false;

  constructor(options: SessionLogProcessorOptions) {
    this._counter = new SettleCountingExporter(options.exporter);
    this._maxQueueSize = options.maxQueueSize;
    this._onDrop = options.onDrop;
    this._inner = new BatchLogRecordProcessor({
      exporter: this._counter,
      maxQueueSize: options.maxQueueSize,
      maxExportBatchSize: Math.min(MAX_EXPORT_BATCH_SIZE, options.maxQueueSize),
      scheduledDelayMillis: options.scheduledDelayMillis,
    });
  }

  pending(): number {
    return this.accepted - this._counter.settled;
  }

  onEmit(logRecord: SdkLogRecord): void {
    if (this._closed || this.pending() >= this._maxQueueSize) {
      this._onDrop();
      return;
    }
    this.accepted += 1;
    this._inner.onEmit(logRecord);
  }

  async forceFlush(): Promise<void> {
    // The SDK returns early when another flush is in progress; loop until the rows queued
    // before this call have settled, bounded so a wedged disk cannot hang a shutdown forever.
    const target = this.accepted;
    for (let round = 0; round < 100 && this._counter.settled < target; round++) {
      await this._inner.forceFlush();
      await this._counter.forceFlush();
      if (this._counter.settled < target) await new Promise((r) => setTimeout(r, 5).unref());
    }
  }

  async shutdown(): Promise<void> {
    this._closed = true;
    await this.forceFlush();
    await this._inner.shutdown();
  }
}

/**
 * Creates the session log: its OWN LoggerProvider (rows are written even when the global SDK
 * is disabled) → bounded batch processor → {@link SessionLogExporter}. An empty or undefined
 * path returns a disabled no-op log. Never throws.
 */
export function createSessionLog(options: SessionLogOptions): SessionLog {
  const path = options.path;
  if (path === undefined || path === '') return NOOP_SESSION_LOG;
  return new ActiveSessionLog(path, options);
}

class ActiveSessionLog implements SessionLog {
  readonly enabled = true;
  private readonly _daemon: string;
  private readonly _exporter: SessionLogExporter;
  private readonly _processor: SessionLogProcessor;
  private readonly _provider: LoggerProvider;
  private readonly _logger: Logger;
  private readonly _warn: (msg: string, meta?: Record<string, unknown>) => void;
  private readonly _droppedCounter: Counter | undefined;
  private readonly _failureCounter: Counter | undefined;
  private _emitted = 0;
  private _dropped = 0;
  private _warnedDrop = false;
  private _warnedEncode = false;
  private _shutdown: Promise<void> | undefined;

  constructor(path: string, options: SessionLogOptions) {
    this._daemon = options.daemon ?? 'gateway';
    const logger = options.logger;
    this._warn =
      logger !== undefined
        ? (msg, meta) => logger.warn(msg, meta)
        : (msg, meta) => diag.warn(msg, meta);
    this._droppedCounter = options.meter?.createCounter('lakehouse.session_log.dropped', {
      unit: '{row}',
      description: 'Session log rows dropped because the write queue was full or closed.',
    });
    this._failureCounter = options.meter?.createCounter('lakehouse.session_log.write_failures', {
      unit: '{row}',
      description: 'Session log rows lost to failed writes (unwritable path, full disk).',
    });
    const warnOnce = warnOncePerCode(this._warn);
    this._exporter = new SessionLogExporter({
      path,
      onError: (failure: SessionLogWriteError) => {
        warnOnce(failure);
        this._failureCounter?.add(failure.rows, {
          'error.type': failure.error.code ?? failure.error.name,
        });
      },
    });
    this._processor = new SessionLogProcessor({
      exporter: this._exporter,
      maxQueueSize: Math.max(1, Math.floor(options.maxQueueSize ?? DEFAULT_SESSION_LOG_QUEUE_SIZE)),
      scheduledDelayMillis: options.scheduledDelayMillis ?? DEFAULT_SCHEDULED_DELAY_MILLIS,
      onDrop: () => this._drop('queue full or closed'),
    });
    this._provider = new LoggerProvider({ processors: [this._processor] });
    this._logger = this._provider.getLogger('@lakehouse/session-log');
  }

  emit(record: SessionLogEntry): void {
    this._emitted += 1;
    if (this._shutdown !== undefined) {
      this._drop('session log is shut down');
      return;
    }
    try {
      // Encoded without copying the record (a spread costs as much as the encoding).
      const line = encodeSessionRow(
        record,
        record.timestamp ?? formatSessionTimestamp(performance.timeOrigin + performance.now()),
        this._daemon,
      );
      // Reading a character makes V8 flatten the row, built by concatenation, into one string
      // now: a queued row is then one object for the GC to move instead of a tree of dozens,
      // which halves the cost of writing rows out (bench figure 3).
      line.charCodeAt(line.length >> 1);
      // The body is the finished row (a string passes through the SDK untouched, and the
      // caller may mutate its objects after emit returns).
      this._logger.emit({ eventName: SESSION_RECORD_SCHEMA, body: line });
    } catch (error) {
      if (!this._warnedEncode) {
        this._warnedEncode = true;
        this._warn('session log row could not be encoded; dropped', { error: String(error) });
      }
      this._drop(undefined);
    }
  }

  forceFlush(): Promise<void> {
    if (this._shutdown !== undefined) return this._shutdown;
    return bounded(this._processor.forceFlush());
  }

  shutdown(): Promise<void> {
    this._shutdown ??= bounded(this._provider.shutdown());
    return this._shutdown;
  }

  stats(): SessionLogStats {
    const { written, failed } = this._exporter.stats();
    return { emitted: this._emitted, written, dropped: this._dropped, failed };
  }

  private _drop(reason: string | undefined): void {
    this._dropped += 1;
    this._droppedCounter?.add(1);
    if (reason !== undefined && !this._warnedDrop) {
      this._warnedDrop = true;
      this._warn('session log dropping rows', { reason });
    }
  }
}
