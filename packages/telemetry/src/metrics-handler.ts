import { diag } from '@opentelemetry/api';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { getPrometheusExporter, getTelemetry } from './telemetry.js';

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * How long one render of `/metrics` is served again by default (milliseconds): none, since
 * readers expect a scrape after a request to count it; concurrent scrapes still share one render.
 */
export const METRICS_RENDER_MAX_AGE_MS = 0;

/** Options of {@link metricsHandler}. */
export interface MetricsHandlerOptions {
  /** Serve a finished render again while younger than this. Default {@link METRICS_RENDER_MAX_AGE_MS}. */
  maxAgeMs?: number;
  /** Called once per render (collect + serialize), e.g. to count them. */
  onRender?: () => void;
}

interface Render {
  exporter: PrometheusExporter;
  body: Promise<string>;
  doneAt: number | undefined;
}

/**
 * Request handler for the service's own `GET /metrics`: the Prometheus text of all OTel metrics.
 * One render at a time: concurrent scrapes share the render under way, and a render younger than
 * `maxAgeMs` is served again, so a scrape storm costs one collect+serialize per `maxAgeMs`, not one
 * per scrape. With telemetry disabled or not started it answers 200 with a single comment line.
 */
export function metricsHandler(
  options: MetricsHandlerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const maxAgeMs = options.maxAgeMs ?? METRICS_RENDER_MAX_AGE_MS;
  // The exporter's own defaults (it is created with none set).
  const serializer = new PrometheusSerializer();
  let last: Render | undefined;

  const render = (exporter: PrometheusExporter): Promise<string> => {
    if (
      last?.exporter === exporter &&
      (last.doneAt === undefined || performance.now() - last.doneAt < maxAgeMs)
    )
      return last.body;
    options.onRender?.();
    const current: Render = { exporter, body: Promise.resolve(''), doneAt: undefined };
    current.body = exporter
      .collect()
      .then(({ resourceMetrics, errors }) => {
        if (errors.length > 0) diag.error('/metrics: collection errors', ...errors);
        const body = serializer.serialize(resourceMetrics);
        current.doneAt = performance.now();
        return body;
      })
      .catch((err: unknown) => {
        // A failure is shared by the scrapes waiting on it, never kept for later ones.
        if (last === current) last = undefined;
        return `# failed to export metrics: ${String(err)}\n`;
      });
    last = current;
    return current.body;
  };

  return (req, res) => {
    res.statusCode = 200;
    res.setHeader('Content-Type', CONTENT_TYPE);
    const exporter = getPrometheusExporter();
    if (exporter === undefined) {
      const why = getTelemetry() === undefined ? 'telemetry not started' : 'OTEL_SDK_DISABLED=true';
      res.end(`# metrics disabled (${why})\n`);
      return;
    }
    void render(exporter).then((body) => {
      if (!res.destroyed) res.end(body);
    });
  };
}
