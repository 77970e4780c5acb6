import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { metrics } from '@opentelemetry/api';
import type { Attributes, Histogram, MeterProvider } from '@opentelemetry/api';
import { requestTrace } from './request-trace.js';
import { TELEMETRY_SCOPE } from './rejection-counter.js';
import { TRACE_ID_HEADER } from './trace-id.js';

/** Response header carrying the trace id: SPEC §3 sends it lowercase on the wire, like requests. */
export const TRACE_ID_RESPONSE_HEADER = TRACE_ID_HEADER;

/** The stable HTTP semconv server histogram this middleware records (seconds). */
const HTTP_SERVER_DURATION_METRIC = 'http.server.request.duration';

// The semconv's advice for http.server.request.duration.
const DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
const DEFAULT_IGNORED_PATHS = ['/metrics', '/healthz', '/readyz'];

/** Options of {@link requestTelemetry}. */
export interface RequestTelemetryOptions {
  /** The app's routes (exact paths): recorded as `http.route`; any other path gets none. */
  routes: readonly string[];
  /** Paths with no duration recorded (probes, scrapes). Default /metrics, /healthz, /readyz. */
  ignorePaths?: readonly string[];
}

type Next = (err?: unknown) => void;

let cachedProvider: MeterProvider | undefined;
let cachedHistogram: Histogram | undefined;

// Re-created when the global provider changes (the metrics API has no proxy provider).
function histogram(): Histogram {
  const provider = metrics.getMeterProvider();
  if (cachedHistogram === undefined || provider !== cachedProvider) {
    cachedProvider = provider;
    cachedHistogram = provider
      .getMeter(TELEMETRY_SCOPE)
      .createHistogram(HTTP_SERVER_DURATION_METRIC, {
        description: 'Duration of HTTP server requests',
        unit: 's',
        advice: { explicitBucketBoundaries: DURATION_BUCKETS },
      });
  }
  return cachedHistogram;
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/**
 * The one middleware both services mount first, in place of the http and express
 * instrumentations: decides the request's trace at the edge ({@link requestTrace}), sets
 * `x-lakehouse-trace-id` on every response, and records `http.server.request.duration` by
 * method, route and status when the response closes. Starts no span: the services' own spans
 * are the tree, and the trace id of a request without a parent seeds its first span.
 * Attribute sets are bounded (known methods, the given routes, status codes) and reused.
 */
export function requestTelemetry(
  options: RequestTelemetryOptions,
): (req: IncomingMessage, res: ServerResponse, next: Next) => void {
  const routes = new Set(options.routes);
  const ignored = new Set(options.ignorePaths ?? DEFAULT_IGNORED_PATHS);
  const attributeSets = new Map<string, Attributes>();
  const attributesFor = (method: string, route: string | undefined, status: number): Attributes => {
    const key = `${method} ${route ?? ''} ${status}`;
    let attrs = attributeSets.get(key);
    if (attrs === undefined) {
      attrs = {
        'http.request.method': method,
        'http.response.status_code': status,
        'url.scheme': 'http',
      };
      if (route !== undefined) attrs['http.route'] = route;
      attributeSets.set(key, attrs);
    }
    return attrs;
  };
  return (req, res, next) => {
    const trace = requestTrace(req);
    if (!res.headersSent) res.setHeader(TRACE_ID_RESPONSE_HEADER, trace.traceId);
    const path = pathOf(req.url);
    if (!ignored.has(path)) {
      const started = performance.now();
      const method = KNOWN_METHODS.has(req.method ?? '') ? (req.method as string) : '_OTHER';
      const route = routes.has(path) ? path : undefined;
      res.once('close', () => {
        try {
          histogram().record(
            (performance.now() - started) / 1000,
            attributesFor(method, route, res.statusCode),
          );
        } catch {
          // Metrics must never break request handling.
        }
      });
    }
    next();
  };
}
