#!/usr/bin/env node
import { runBuilt } from './run-built.js';

await runBuilt('trace-cli', 'lakehouse-trace');
