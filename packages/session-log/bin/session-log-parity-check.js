#!/usr/bin/env node
import { runBuilt } from './run-built.js';

await runBuilt('parity', 'session-log-parity-check');
