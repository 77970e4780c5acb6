// Loaded with `node --import`, before the app: starts telemetry before any span is made.
import { langfuseSpanExport } from '@lakehouse/langfuse-processor';
import { instrumentService, isTrustedRemoteParent } from '@lakehouse/telemetry';
import { SIM_MODES } from './config.js';
import { STARTUP_CONFIG } from './startup-config.js';

instrumentService('chatd', () => {
  const span = langfuseSpanExport({
    contentCapture: STARTUP_CONFIG.contentCapture,
    isTrustedRemoteParent,
  });
  // The simulator's mode names keep their series however many names clients invent.
  return { ...span, metricBounds: { ...span.metricBounds, knownValues: SIM_MODES } };
});
