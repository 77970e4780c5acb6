// Loaded with `node --import`, before the app: starts telemetry before any span is made.
import { langfuseSpanExport } from '@lakehouse/langfuse-processor';
import { instrumentService, isTrustedRemoteParent } from '@lakehouse/telemetry';
import { STARTUP_CONFIG } from './startup-config.js';

instrumentService('gateway', () =>
  langfuseSpanExport({ contentCapture: STARTUP_CONFIG.contentCapture, isTrustedRemoteParent }),
);
