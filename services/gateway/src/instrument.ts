// Loaded with `node --import`, before the app, so the instrumentations patch http/express first.
import { langfuseSpanExport } from '@lakehouse/langfuse-processor';
import { instrumentService } from '@lakehouse/telemetry';
import { STARTUP_CONFIG } from './startup-config.js';

instrumentService('gateway', () =>
  langfuseSpanExport({ contentCapture: STARTUP_CONFIG.contentCapture }),
);
