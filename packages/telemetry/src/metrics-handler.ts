import type { IncomingMessage, ServerResponse } from 'node:http';
import { getPrometheusExporter, getTelemetry } from './telemetry.js';

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Request handler for the service's own `GET /metrics`: the Prometheus text of all OTel metrics.
 * With telemetry disabled or not started it answers 200 with a single comment line.
 */
export function metricsHandler(): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const exporter = getPrometheusExporter();
    if (exporter === undefined) {
      const why = getTelemetry() === undefined ? 'telemetry not started' : 'OTEL_SDK_DISABLED=true';
      res.statusCode = 200;
      res.setHeader('Content-Type', CONTENT_TYPE);
      res.end(`# metrics disabled (${why})\n`);
      return;
    }
    exporter.getMetricsRequestHandler(req, res);
  };
}
