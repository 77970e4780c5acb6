import type { Context, Meter } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { traceFilePathProblem } from './otlp-json-file-span-exporter.js';

/** Minimal logger the processor reports drops and mask failures to (defaults to OTel's diag). */
export interface LangfuseProcessorLogger {
  warn(message: string, meta?: Record<string, unknown>): void;
}

/**
 * Options of {@link LangfuseTranslatingSpanProcessor}; each resolves option → environment
 * variable → default (see README).
 */
export interface LangfuseProcessorOptions {
  /** Langfuse public key (`LANGFUSE_PUBLIC_KEY`). */
  publicKey?: string;
  /** Langfuse secret key (`LANGFUSE_SECRET_KEY`). */
  secretKey?: string;
  /** Langfuse base URL (`LANGFUSE_BASE_URL`, else `LANGFUSE_HOST`; default https://cloud.langfuse.com). */
  baseUrl?: string;
  /** `langfuse.environment` on every observation (`LANGFUSE_TRACING_ENVIRONMENT`). */
  environment?: string;
  /** `langfuse.release` on every observation (`LANGFUSE_RELEASE`). */
  release?: string;
  /** Overrides the destination (e.g. an InMemorySpanExporter in tests). */
  exporter?: SpanExporter;
  /** OTLP/JSON lines file used when no Langfuse keys are set (`LANGFUSE_TRACE_FILE`). */
  traceFile?: string;
  /**
   * Full OTLP/HTTP traces URL to send the translated spans to instead of Langfuse itself, e.g. a
   * Collector that holds the Langfuse keys (`LANGFUSE_OTLP_ENDPOINT`). Keys, when also set, are sent.
   */
  otlpEndpoint?: string;
  /** Applied to every exported string attribute, event attribute and status message; replaces `defaultMask`. */
  mask?: (value: string) => string;
  /** false removes prompt/response text (default true; services pass their `CONTENT_CAPTURE`). */
  contentCapture?: boolean;
  /** Queue bound; spans past it are dropped and counted (default 2048). */
  maxQueueSize?: number;
  /** Spans per export (default 512). */
  maxExportBatchSize?: number;
  /** Delay before a partial batch is exported (default 1000 ms). */
  scheduledDelayMillis?: number;
  /** Bound of one export, of forceFlush and of shutdown's flush (default 5000 ms). */
  exportTimeoutMillis?: number;
  /** Meter for `lakehouse.langfuse.spans_dropped` (default: the global meter provider's). */
  meter?: Meter;
  /** Where drops are reported (once per reason). */
  logger?: LangfuseProcessorLogger;
  /**
   * Whether the remote parent in a span's start context is one of our own services' spans (the
   * telemetry package's isTrustedRemoteParent: a verified hop signature). Only then is a span
   * placed under a remote parent; otherwise it is a root. Default: no remote parent is trusted.
   */
  isTrustedRemoteParent?: (ctx: Context) => boolean;
  /** Instrumentation scopes treated as noise (default {@link DEFAULT_NOISE_SCOPES}). */
  noiseScopes?: readonly string[];
  /** Environment to resolve from (default `process.env`); lets tests avoid global state. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Where a processor sends its spans. */
export type LangfuseDestination =
  | { readonly kind: 'langfuse'; readonly url: string }
  | { readonly kind: 'otlp'; readonly url: string }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'exporter' };

/**
 * Thrown at construction for an unusable configuration (e.g. a public key without a secret key).
 * Shaped like telemetry's ConfigError (packages do not import each other): `variable` names the
 * variable (or option) that was set, the message is `<variable>: <why>`, and the services'
 * start-up reports both alike (exit 2).
 */
export class LangfuseConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'LangfuseConfigError';
    this.variable = variable;
  }
}

/** A setting and where it came from (the option's or the variable's name), for errors. */
interface Setting {
  readonly value: string;
  readonly from: string;
}

// A malformed URL would only surface as failed exports later; refuse it at start-up instead.
function httpUrl(setting: Setting | undefined): string | undefined {
  if (setting === undefined) return undefined;
  let protocol = '';
  try {
    protocol = new URL(setting.value).protocol;
  } catch {
    // reported below
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new LangfuseConfigError(
      setting.from,
      `expected an http(s) URL, got ${JSON.stringify(setting.value)}`,
    );
  }
  return setting.value;
}

// A FIFO with no reader would block the first export, and with it every shutdown.
function traceFile(setting: Setting | undefined): string | undefined {
  if (setting === undefined) return undefined;
  const problem = traceFilePathProblem(setting.value);
  if (problem !== undefined) throw new LangfuseConfigError(setting.from, problem);
  return setting.value;
}

function empty(value: string | undefined): value is undefined {
  return value === undefined || value.trim() === '';
}

/** The processor's settings after option → environment → default. */
export interface ResolvedConfig {
  readonly publicKey: string | undefined;
  readonly secretKey: string | undefined;
  readonly baseUrl: string;
  readonly environment: string | undefined;
  readonly release: string | undefined;
  readonly traceFile: string | undefined;
  readonly otlpEndpoint: string | undefined;
  readonly contentCapture: boolean;
}

/**
 * Resolves option → env → default; throws LangfuseConfigError on half-configured keys, a bad URL
 * or a trace file that is not a regular file.
 */
export function resolveConfig(options: LangfuseProcessorOptions): ResolvedConfig {
  const env = options.env ?? process.env;
  // The option (named as such), else the first variable set, trimmed; blank is unset.
  const pick = (
    option: string | undefined,
    optionName: string,
    ...names: string[]
  ): Setting | undefined => {
    if (!empty(option)) return { value: option.trim(), from: `options.${optionName}` };
    for (const name of names) {
      const value = env[name];
      if (!empty(value)) return { value: value.trim(), from: name };
    }
    return undefined;
  };
  const publicKey = pick(options.publicKey, 'publicKey', 'LANGFUSE_PUBLIC_KEY')?.value;
  const secretKey = pick(options.secretKey, 'secretKey', 'LANGFUSE_SECRET_KEY')?.value;
  if ((publicKey === undefined) !== (secretKey === undefined)) {
    const [missing, set] =
      publicKey === undefined
        ? ['LANGFUSE_PUBLIC_KEY', 'LANGFUSE_SECRET_KEY']
        : ['LANGFUSE_SECRET_KEY', 'LANGFUSE_PUBLIC_KEY'];
    throw new LangfuseConfigError(
      missing,
      `Langfuse is half-configured (${set} is set, ${missing} is missing); set both keys, or neither`,
    );
  }
  const baseUrl = (
    httpUrl(pick(options.baseUrl, 'baseUrl', 'LANGFUSE_BASE_URL', 'LANGFUSE_HOST')) ??
    'https://cloud.langfuse.com'
  ).replace(/\/+$/, '');
  return {
    publicKey,
    secretKey,
    baseUrl,
    environment: pick(options.environment, 'environment', 'LANGFUSE_TRACING_ENVIRONMENT')?.value,
    release: pick(options.release, 'release', 'LANGFUSE_RELEASE')?.value,
    traceFile: traceFile(pick(options.traceFile, 'traceFile', 'LANGFUSE_TRACE_FILE')),
    otlpEndpoint: httpUrl(pick(options.otlpEndpoint, 'otlpEndpoint', 'LANGFUSE_OTLP_ENDPOINT')),
    contentCapture: options.contentCapture ?? true,
  };
}
