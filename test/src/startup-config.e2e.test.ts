// Every malformed variable stops a service at start-up, naming it (exit 2), for both services.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sharedRoster, startService } from './harness.js';

const CASES: ReadonlyArray<readonly [string, string]> = [
  ['CONTENT_CAPTURE', 'maybe'],
  ['LOG_LEVEL', 'loud'],
  ['PORT', 'eighty'],
  ['BODY_LIMIT_BYTES', '0'],
  ['LANGFUSE_OTLP_ENDPOINT', 'collector:4318'],
  ['LANGFUSE_HOST', 'notaurl'],
  ['OTEL_SDK_DISABLED', 'maybe'],
  ['OTEL_EXPORTER_OTLP_PROTOCOL', 'carrier-pigeon'],
  ['OTEL_METRIC_EXPORT_INTERVAL', 'soon'],
  ['OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', '10k'],
  ['LAKEHOUSE_HOP_KEY', '   '],
  ['LAKEHOUSE_HOP_KEY', 'a'.repeat(16)],
];

describe('start-up configuration', () => {
  for (const service of ['gateway', 'chatd'] as const) {
    for (const [variable, value] of CASES) {
      it(`${service} exits 2 naming ${variable}=${JSON.stringify(value)}`, async () => {
        await assert.rejects(
          startService(service, { ROSTER_PATH: await sharedRoster(), [variable]: value }),
          new RegExp(`exited with code 2[\\s\\S]*${service}: .*${variable}`),
        );
      });
    }
  }
});
