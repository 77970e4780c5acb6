#!/usr/bin/env node
import { runBuilt } from '../../../scripts/run-built.mjs';

await runBuilt(new URL('../dist/src/sessions-cli.js', import.meta.url), 'lakehouse-sessions');
