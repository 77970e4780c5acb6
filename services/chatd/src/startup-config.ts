import { loadConfigOrExit } from '@lakehouse/telemetry';
import { loadConfig } from './config.js';

/** chatd's configuration, parsed once per process; a bad variable exits 2 naming it. */
export const STARTUP_CONFIG = loadConfigOrExit('chatd', () => loadConfig());
