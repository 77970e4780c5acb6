import { diag, metrics } from '@opentelemetry/api';
import { getStringFromEnv, getStringListFromEnv } from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import type { LogRecordProcessor } from '@opentelemetry/sdk-logs';
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { IMetricReader } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  NoopSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { setCaptureLimit } from './capture.js';
import { SyncContextManager } from './context-manager.js';
import { ExcludeScopeLogRecordProcessor } from './exclude-scope-log-processor.js';
import type { HopSigner } from './hop-signature.js';
import { DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT } from './limits.js';
import { createBoundedMeterProvider } from './bounded-meter-provider.js';
import { readOtelEnv } from './otel-env.js';
import type { OtelEnv, OtlpSignal } from './otel-env.js';
import type { MetricBoundsOptions } from './metric-bounds.js';
import { createPropagator } from './propagator.js';
import { TELEMETRY_SCOPE } from './rejection-counter.js';
import { configureRequestTracing, requestTraceIdGenerator } from './request-trace.js';

export { DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT };

/** Options of {@link startTelemetry}; everything except `serviceName` is optional. */
export interface TelemetryOptions {
  /** `service.name` resource attribute; OTEL_SERVICE_NAME overrides it. */
  serviceName: string;
  serviceVersion?: string;
  /** Extra span processors owned by the service (e.g. the Langfuse processor); shut down with the SDK. */
  spanProcessors?: SpanProcessor[];
  /**
   * Wraps the raw OTLP span exporter (when OTLP traces are configured), e.g. with a masking
   * exporter, so spans leave the process only after the service's mask and content switch.
   */
  wrapOtlpSpanExporter?: (exporter: SpanExporter) => SpanExporter;
  /**
   * Extra log record processors (e.g. the session-log exporter). They never see the winston
   * bridge's records (scope `@opentelemetry/winston-transport`), only the service's own.
   */
  logRecordProcessors?: LogRecordProcessor[];
  /** Signs and verifies our hops' W3C parent (hopSignerFromEnv); none = no hop is trusted. */
  hopSigner?: HopSigner;
  /**
   * Bounds on metric label values (length, series and bytes per instrument, a mask for secrets,
   * known values) applied to every instrument; see {@link createBoundedMeterProvider}.
   */
  metricBounds?: MetricBoundsOptions;
}

/** Handle on the running SDK. All methods are safe no-ops when telemetry is disabled. */
export interface Telemetry {
  /** False when OTEL_SDK_DISABLED=true: nothing was started. */
  readonly enabled: boolean;
  /** The effective service name (OTEL_SERVICE_NAME wins over the option). */
  readonly serviceName: string;
  /** Which OTLP exporters were configured from the environment. */
  readonly otlp: { readonly traces: boolean; readonly metrics: boolean; readonly logs: boolean };
  /** Flushes spans, logs and OTLP metrics; resolves within the timeout and never rejects. */
  forceFlush(): Promise<void>;
  /** Shuts everything down once; later calls return the same promise. Bounded, never rejects. */
  shutdown(): Promise<void>;
}

/** Counter of measurements folded into the overflow series by the metric bounds. */
const METRIC_OVERFLOW_METRIC = 'lakehouse.metric.overflow';

/** Scope name of the records written by the winston → OTel logs bridge. */
export const WINSTON_BRIDGE_SCOPE = '@opentelemetry/winston-transport';

// Upper bound of Telemetry.shutdown() and forceFlush().
const SHUTDOWN_TIMEOUT_MS = 5000;

let current: Telemetry | undefined;
let prometheus: PrometheusExporter | undefined;

/** The running Telemetry, or undefined before {@link startTelemetry}. */
export function getTelemetry(): Telemetry | undefined {
  return current;
}

/** Internal: the Prometheus reader behind metricsHandler(), when telemetry is enabled. */
export function getPrometheusExporter(): PrometheusExporter | undefined {
  return prometheus;
}

// OTLP is opt-in: only when an endpoint is set and OTEL_<SIGNAL>_EXPORTER does not exclude it.
function otlpConfigured(signal: OtlpSignal): boolean {
  const exporters = getStringListFromEnv(`OTEL_${signal}_EXPORTER`);
  if (exporters !== undefined && exporters.length > 0 && !exporters.includes('otlp')) return false;
  return (
    getStringFromEnv(`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`) !== undefined ||
    getStringFromEnv('OTEL_EXPORTER_OTLP_ENDPOINT') !== undefined
  );
}

function warnOnUnsupportedProtocol(env: OtelEnv, signal: OtlpSignal): void {
  if (env.otlpProtocol[signal] === 'grpc') {
    diag.warn(
      `@lakehouse/telemetry: OTLP ${signal.toLowerCase()} are sent as http/json; grpc is not supported`,
    );
  }
}

function withTimeout(work: () => Promise<unknown>, ms: number, what: string): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      diag.warn(`@lakehouse/telemetry: ${what} did not finish within ${ms} ms`);
      resolve();
    }, ms);
    timer.unref();
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    let pending: Promise<unknown>;
    try {
      pending = work();
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(done, (err: unknown) => {
      diag.warn(`@lakehouse/telemetry: ${what} failed`, err);
      done();
    });
  });
}

function disabledTelemetry(serviceName: string): Telemetry {
  return {
    enabled: false,
    serviceName,
    otlp: { traces: false, metrics: false, logs: false },
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}

/**
 * Starts the OTel Node SDK once per process: no instrumentation and no async context manager
 * (request code passes its Context explicitly: requestTelemetry, startSpan, hopHeaders), every
 * span sampled whatever a caller's flags say, the composite propagator with the hop signature, a
 * Prometheus reader, OTLP exporters when OTEL_EXPORTER_OTLP_*ENDPOINT is set.
 * Idempotent: later calls return the first Telemetry. OTEL_SDK_DISABLED=true starts nothing.
 * Throws ConfigError naming a malformed OTEL_* variable (before anything is started).
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  if (current !== undefined) {
    diag.debug(
      '@lakehouse/telemetry: startTelemetry() called again; returning the running instance',
    );
    return current;
  }
  const env = readOtelEnv(process.env);
  const serviceName = getStringFromEnv('OTEL_SERVICE_NAME') ?? options.serviceName;
  if (env.sdkDisabled) {
    current = disabledTelemetry(serviceName);
    return current;
  }

  const timeoutMs = SHUTDOWN_TIMEOUT_MS;
  const otlp = {
    traces: otlpConfigured('TRACES'),
    metrics: otlpConfigured('METRICS'),
    logs: otlpConfigured('LOGS'),
  };

  const spanProcessors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (otlp.traces) {
    warnOnUnsupportedProtocol(env, 'TRACES');
    // Bounded queue: OTEL_BSP_MAX_QUEUE_SIZE (default 2048); spans past it are dropped, never block.
    const exporter = new OTLPTraceExporter();
    spanProcessors.push(
      new BatchSpanProcessor(options.wrapOtlpSpanExporter?.(exporter) ?? exporter),
    );
  }
  // NodeSDK registers no tracer provider without a processor; services need trace ids regardless.
  if (spanProcessors.length === 0) spanProcessors.push(new NoopSpanProcessor());

  prometheus = new PrometheusExporter({ preventServerStart: true });
  const metricReaders: IMetricReader[] = [prometheus];
  const otlpMetricReaders: IMetricReader[] = [];
  if (otlp.metrics) {
    warnOnUnsupportedProtocol(env, 'METRICS');
    const reader = new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter(),
      exportIntervalMillis: env.metricExportIntervalMillis,
      exportTimeoutMillis: env.metricExportTimeoutMillis,
    });
    otlpMetricReaders.push(reader);
    metricReaders.push(reader);
  }

  const logRecordProcessors: LogRecordProcessor[] = (options.logRecordProcessors ?? []).map(
    (p) => new ExcludeScopeLogRecordProcessor(p, WINSTON_BRIDGE_SCOPE),
  );
  if (otlp.logs) {
    warnOnUnsupportedProtocol(env, 'LOGS');
    logRecordProcessors.push(
      new BatchLogRecordProcessor({ exporter: new OTLPLogExporter(), ...env.logBatch }),
    );
  }

  const resourceAttributes: Record<string, string> = { [ATTR_SERVICE_NAME]: options.serviceName };
  if (options.serviceVersion !== undefined)
    resourceAttributes[ATTR_SERVICE_VERSION] = options.serviceVersion;

  const sdk = new NodeSDK({
    // Unlimited by default in the SDK: one 8 MiB completion would sit in memory and queues as an
    // 8 MiB attribute. Always given (the standard variables, parsed, else ours): an empty or
    // malformed variable never falls back to the SDK's unlimited.
    spanLimits: { attributeValueLengthLimit: env.attributeValueLengthLimit },
    // Merged with the default resource so telemetry.sdk.* stay; the env detector (run by
    // NodeSDK after this) lets OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES override.
    resource: defaultResource().merge(resourceFromAttributes(resourceAttributes)),
    spanProcessors,
    metricReaders,
    contextManager: new SyncContextManager(),
    // Clients do not steer sampling: an inbound `-00` traceparent still gets a recorded trace
    // (so the row's span ids always point at exported spans).
    sampler: new AlwaysOnSampler(),
    idGenerator: requestTraceIdGenerator(),
    // Always given (possibly empty): left undefined, NodeSDK would default to an OTLP exporter.
    logRecordProcessors,
    textMapPropagator: createPropagator(options.hopSigner),
    instrumentations: [],
  });
  sdk.start();
  // Client-derived label values (model, provider, …) are cut, masked and budgeted per
  // instrument: the global provider becomes a bounding wrapper around the SDK's.
  const boundedMeters = createBoundedMeterProvider(
    metrics.getMeterProvider(),
    options.metricBounds,
  );
  metrics.disable();
  metrics.setGlobalMeterProvider(boundedMeters);
  setCaptureLimit(env.attributeValueLengthLimit);
  configureRequestTracing({ enabled: true, signer: options.hopSigner });
  metrics
    .getMeter(TELEMETRY_SCOPE)
    .createObservableCounter(METRIC_OVERFLOW_METRIC, {
      description: 'Measurements folded into otel.metric.overflow=true past the series cap',
    })
    .addCallback((result) => result.observe(boundedMeters.overflowCount));

  let shutdownPromise: Promise<void> | undefined;
  const telemetry: Telemetry = {
    enabled: true,
    serviceName,
    otlp,
    forceFlush: () =>
      withTimeout(
        () =>
          Promise.all([
            ...spanProcessors.map((p) => p.forceFlush()),
            ...logRecordProcessors.map((p) => p.forceFlush()),
            ...otlpMetricReaders.map((r) => r.forceFlush()),
          ]),
        timeoutMs,
        'forceFlush',
      ),
    shutdown: () => {
      shutdownPromise ??= withTimeout(() => sdk.shutdown(), timeoutMs, 'shutdown');
      return shutdownPromise;
    },
  };
  current = telemetry;
  return telemetry;
}
