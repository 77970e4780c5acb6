#!/usr/bin/env node
import { runBuilt } from './run-built.js';

await runBuilt('parity-probe', 'session-log-parity');
