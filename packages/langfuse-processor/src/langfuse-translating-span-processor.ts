import { diag, isSpanContextValid, metrics, trace, TraceFlags } from '@opentelemetry/api';
import type { Context, Counter, Meter } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type {
  ReadableSpan,
  Span,
  SpanExporter,
  SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { DEFAULT_NOISE_SCOPES, LAKEHOUSE_ATTRIBUTES } from './attributes.js';
import { LangfuseConfigError, resolveConfig } from './langfuse-config.js';
import type {
  LangfuseDestination,
  LangfuseProcessorLogger,
  LangfuseProcessorOptions,
} from './langfuse-config.js';
import { BoundedExportQueue } from './bounded-export-queue.js';
import type { DropReason } from './bounded-export-queue.js';
import { defaultMask } from './mask.js';
import { OtlpJsonFileSpanExporter } from './otlp-json-file-span-exporter.js';
import { translateSpan } from './translate-span.js';
import type { SpanPlacement, TranslateOptions } from './translate-span.js';

/** Counts of spans dropped before reaching the destination, by reason. */
export type DroppedSpanCounts = Record<DropReason, number>;

/** Metric counting dropped spans, with attribute `reason` = queue_full | export_failed. */
export const SPANS_DROPPED_METRIC = 'lakehouse.langfuse.spans_dropped';

/** Langfuse's OTLP trace ingestion path, appended to the base URL. */
export const LANGFUSE_OTLP_TRACES_PATH = '/api/public/otel/v1/traces';

const METER_NAME = '@lakehouse/langfuse-processor';
const MAX_TRACKED_SPANS = 10_000;
const EXPORTER_SHUTDOWN_GRACE_MS = 1000;

interface SpanRecord {
  readonly exported: boolean;
  readonly placement: SpanPlacement;
}

interface QueuedSpan {
  readonly span: ReadableSpan;
  readonly placement: SpanPlacement;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Span processor that translates the services' spans into ONE Langfuse tree per session
 * (SPEC §4): noise dropped without dangling parents, a remote parent kept only when our signed
 * hop vouches for it,
 * trace-level attributes only on roots, masking and content capture on every span. Export goes
 * through a bounded queue: it never blocks or fails a request; drops are counted.
 * Construction throws LangfuseConfigError when no destination (keys, trace file or exporter)
 * is configured or the keys are half-configured. `shutdown` is idempotent and time-bounded.
 */
export class LangfuseTranslatingSpanProcessor implements SpanProcessor {
  private readonly _exporter: SpanExporter;
  private readonly _destination: LangfuseDestination;
  private readonly _queue: BoundedExportQueue<QueuedSpan>;
  private readonly _translate: TranslateOptions;
  private readonly _noise: ReadonlySet<string>;
  private readonly _exportTimeoutMillis: number;
  private readonly _logger: LangfuseProcessorLogger;
  private readonly _meterOption: Meter | undefined;
  private readonly _trustRemoteParent: (ctx: Context) => boolean;
  private _dropCounter: Counter | undefined;
  private readonly _dropped: DroppedSpanCounts = { queue_full: 0, export_failed: 0 };
  private readonly _warned = new Set<string>();
  // Per-span placement: by object (survives the parent's end) and by id (bounded, for wrapped contexts).
  private readonly _records = new WeakMap<object, SpanRecord>();
  private readonly _byId = new Map<string, SpanRecord>();
  private _closed = false;
  private _shutdown: Promise<void> | undefined;

  constructor(options: LangfuseProcessorOptions = {}) {
    const config = resolveConfig(options);
    this._exportTimeoutMillis = options.exportTimeoutMillis ?? 5000;
    if (options.exporter !== undefined) {
      this._exporter = options.exporter;
      this._destination = { kind: 'exporter' };
    } else if (config.otlpEndpoint !== undefined || config.publicKey !== undefined) {
      const url = config.otlpEndpoint ?? `${config.baseUrl}${LANGFUSE_OTLP_TRACES_PATH}`;
      const auth: Record<string, string> =
        config.publicKey !== undefined && config.secretKey !== undefined
          ? {
              Authorization: `Basic ${Buffer.from(`${config.publicKey}:${config.secretKey}`).toString('base64')}`,
            }
          : {};
      this._exporter = new OTLPTraceExporter({
        url,
        headers: { ...auth, 'x-langfuse-ingestion-version': '4' },
        timeoutMillis: this._exportTimeoutMillis,
      });
      this._destination = { kind: config.otlpEndpoint !== undefined ? 'otlp' : 'langfuse', url };
    } else if (config.traceFile !== undefined) {
      this._exporter = new OtlpJsonFileSpanExporter(config.traceFile);
      this._destination = { kind: 'file', path: config.traceFile };
    } else {
      throw new LangfuseConfigError(
        'LANGFUSE_PUBLIC_KEY',
        'no Langfuse destination: set LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY, LANGFUSE_OTLP_ENDPOINT, or LANGFUSE_TRACE_FILE',
      );
    }
    this._logger = options.logger ?? { warn: (message, meta) => diag.warn(message, meta) };
    this._meterOption = options.meter;
    this._trustRemoteParent = options.isTrustedRemoteParent ?? (() => false);
    this._noise = new Set(options.noiseScopes ?? DEFAULT_NOISE_SCOPES);
    this._translate = {
      mask: options.mask ?? defaultMask,
      contentCapture: config.contentCapture,
      environment: config.environment,
      release: config.release,
      onMaskError: (err) =>
        this._warnOnce('mask', 'langfuse: mask function failed; value fully redacted', {
          error: String(err),
        }),
    };
    this._queue = new BoundedExportQueue<QueuedSpan>({
      exporter: this._exporter,
      toSpans: (items) => this._toSpans(items),
      maxQueueSize: options.maxQueueSize ?? 2048,
      maxExportBatchSize: options.maxExportBatchSize ?? 512,
      scheduledDelayMillis: options.scheduledDelayMillis ?? 1000,
      exportTimeoutMillis: this._exportTimeoutMillis,
      onDrop: (reason, count) => this._recordDrop(reason, count),
    });
  }

  /** Where translated spans go (for a start-up log line). */
  get destination(): LangfuseDestination {
    return this._destination;
  }

  /** Whether prompt/response text is exported. */
  get contentCapture(): boolean {
    return this._translate.contentCapture;
  }

  /** Spans dropped so far, by reason (a copy). */
  get droppedSpans(): DroppedSpanCounts {
    return { ...this._dropped };
  }

  onStart(span: Span, parentContext: Context): void {
    if (this._closed) return;
    try {
      const record: SpanRecord = {
        exported: !this._noise.has(span.instrumentationScope.name),
        placement: this._place(parentContext),
      };
      this._records.set(span, record);
      this._byId.set(span.spanContext().spanId, record);
      if (this._byId.size > MAX_TRACKED_SPANS) {
        const oldest = this._byId.keys().next().value;
        if (oldest !== undefined) this._byId.delete(oldest);
      }
    } catch {
      // A processor must never break span creation.
    }
  }

  onEnd(span: ReadableSpan): void {
    try {
      const sc = span.spanContext();
      const record = this._records.get(span) ?? this._byId.get(sc.spanId);
      this._byId.delete(sc.spanId);
      if (this._closed || (sc.traceFlags & TraceFlags.SAMPLED) === 0) return;
      const exported = record?.exported ?? !this._noise.has(span.instrumentationScope.name);
      if (!exported) return;
      let placement: SpanPlacement = record?.placement ?? {
        parent: span.parentSpanContext,
        root: true,
      };
      // The session span is always its trace's root, whatever arrived from upstream.
      const sessionRoot = span.attributes[LAKEHOUSE_ATTRIBUTES.SESSION_ROOT];
      if ((sessionRoot === true || sessionRoot === 'true') && !placement.root) {
        placement = { parent: placement.parent, root: true };
      }
      if (placement.root) placement = joinCallerTrace(span, placement);
      // Translation and masking run at export time, off the request path.
      this._queue.add({ span, placement });
    } catch {
      // Never throw from onEnd.
    }
  }

  async forceFlush(): Promise<void> {
    await this._queue.flush(this._exportTimeoutMillis);
    const flush = this._exporter.forceFlush?.();
    if (flush !== undefined)
      await Promise.race([flush.catch(() => undefined), delay(EXPORTER_SHUTDOWN_GRACE_MS)]);
  }

  shutdown(): Promise<void> {
    this._shutdown ??= this._doShutdown();
    return this._shutdown;
  }

  private async _doShutdown(): Promise<void> {
    this._closed = true;
    await this._queue.close(this._exportTimeoutMillis);
    await Promise.race([
      this._exporter.shutdown().catch(() => undefined),
      delay(EXPORTER_SHUTDOWN_GRACE_MS),
    ]);
  }

  /** Placement a new exported span gets under `ctx`: see the tree rules in the README. */
  private _place(ctx: Context): SpanPlacement {
    const parentSpan = trace.getSpan(ctx);
    const psc = parentSpan?.spanContext();
    const valid = psc !== undefined && isSpanContextValid(psc);
    if (valid && psc.isRemote !== true && parentSpan !== undefined) {
      const parent = this._records.get(parentSpan) ?? this._byId.get(psc.spanId);
      if (parent !== undefined)
        return parent.exported ? { parent: psc, root: false } : parent.placement;
    }
    // A remote parent is a child's parent only when it proved to be one of our own hops (the
    // hop's W3C parent is the caller's attempt span); anyone else's is kept as upstream only.
    if (valid && psc.isRemote === true && this._trustRemoteParent(ctx)) {
      return { parent: psc, root: false };
    }
    return { parent: valid ? psc : undefined, root: true };
  }

  private _toSpans(items: QueuedSpan[]): ReadableSpan[] {
    const out: ReadableSpan[] = [];
    for (const item of items) {
      try {
        out.push(translateSpan(item.span, item.placement, this._translate));
      } catch (err) {
        this._recordDrop('export_failed', 1);
        this._warnOnce('translate', 'langfuse: span translation failed; span dropped', {
          error: String(err),
        });
      }
    }
    return out;
  }

  private _recordDrop(reason: DropReason, count: number): void {
    this._dropped[reason] += count;
    try {
      this._dropCounter ??= (this._meterOption ?? metrics.getMeter(METER_NAME)).createCounter(
        SPANS_DROPPED_METRIC,
        {
          description: 'Spans dropped before reaching Langfuse (or the trace file)',
          unit: '{span}',
        },
      );
      this._dropCounter.add(count, { reason });
    } catch {
      // Metrics are best effort.
    }
    this._warnOnce(
      `drop:${reason}`,
      `langfuse: dropping spans (${reason}); further drops are only counted`,
      {
        reason,
        count,
        destination: this._destination.kind,
      },
    );
  }

  private _warnOnce(key: string, message: string, meta: Record<string, unknown>): void {
    if (this._warned.has(key)) return;
    this._warned.add(key);
    try {
      this._logger.warn(message, meta);
    } catch {
      // A broken logger must not break export.
    }
  }
}

/**
 * A root in a trace whose id the caller chose (its traceparent, or its X-Lakehouse-Trace-Id)
 * joins that trace instead of becoming its Langfuse root. Langfuse makes every parentless or
 * as_root span its trace's root and takes the trace's name and input/output from it, so a second
 * session under a reused id would overwrite the first's; and a caller-named parent span would
 * let a client hang its observations under anyone's. So it is exported under one parent id
 * derived from the trace id (the same for every session under that id: Langfuse shows them side
 * by side at the top of the trace), sets no trace-level field, and keeps the caller's span id as
 * `lakehouse.upstream_parent_span_id`. Raw OTLP export keeps the real W3C parent.
 */
function joinCallerTrace(span: ReadableSpan, placement: SpanPlacement): SpanPlacement {
  const source = span.attributes[LAKEHOUSE_ATTRIBUTES.TRACE_ID_SOURCE];
  if (source !== 'traceparent' && source !== 'header') return placement;
  const { traceId } = span.spanContext();
  return {
    parent: {
      traceId,
      spanId: joinedParentSpanId(traceId),
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    },
    root: false,
    upstream: placement.parent,
  };
}

/** The parent id every session joining the caller-chosen trace `traceId` is exported under. */
export function joinedParentSpanId(traceId: string): string {
  const tail = traceId.slice(16);
  return /^0+$/.test(tail) ? traceId.slice(0, 16) : tail;
}

/**
 * The Langfuse processor for the current configuration, or undefined when neither Langfuse keys
 * nor a trace file (nor an exporter) are configured. Langfuse keys win over the trace file.
 * Throws LangfuseConfigError on half-configured keys (a start-up configuration error).
 */
export function createLangfuseSpanProcessor(
  options: LangfuseProcessorOptions = {},
): LangfuseTranslatingSpanProcessor | undefined {
  const config = resolveConfig(options);
  if (
    options.exporter === undefined &&
    config.publicKey === undefined &&
    config.otlpEndpoint === undefined &&
    config.traceFile === undefined
  ) {
    return undefined;
  }
  return new LangfuseTranslatingSpanProcessor(options);
}
