#!/usr/bin/env node
import { runBuilt } from '../../../scripts/run-built.mjs';

await runBuilt(new URL('../dist/src/parity-probe.js', import.meta.url), 'session-log-parity');
