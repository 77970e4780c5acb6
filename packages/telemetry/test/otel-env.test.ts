// The OTEL_* variables and LAKEHOUSE_HOP_KEY are parsed once at start-up: a malformed value is a
// ConfigError naming the variable (the services turn it into exit 2), never a silent default.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ConfigError,
  DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT,
  hopSignerFromEnv,
} from '../src/index.js';
import type { Env } from '../src/index.js';
import { readOtelEnv } from '../src/otel-env.js';

function failsNaming(read: () => unknown, variable: string): void {
  assert.throws(read, (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.variable, variable);
    assert.ok(err.message.startsWith(`${variable}: `), err.message);
    return true;
  });
}

// Any text that is not blank and not a plain decimal integer ("10k", "soon", "1e3", "-1", "1.5").
const notAnInteger = fc
  .string({ minLength: 1, maxLength: 12 })
  .filter((s) => s.trim() !== '' && !/^[0-9]+$/.test(s.trim()));

const INTEGER_VARIABLES = [
  'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT',
  'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT',
  'OTEL_METRIC_EXPORT_INTERVAL',
  'OTEL_METRIC_EXPORT_TIMEOUT',
  'OTEL_BLRP_MAX_QUEUE_SIZE',
  'OTEL_BLRP_SCHEDULE_DELAY',
  'OTEL_BSP_MAX_QUEUE_SIZE',
  'OTEL_BSP_SCHEDULE_DELAY',
  'OTEL_EXPORTER_OTLP_TIMEOUT',
];

const PROTOCOL_VARIABLES = [
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
  'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL',
  'OTEL_EXPORTER_OTLP_LOGS_PROTOCOL',
];

void describe('readOtelEnv', () => {
  void it('reads unset and blank variables as unset: our attribute limit, not the SDK unlimited', () => {
    for (const env of [{}, { OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '' }, { OTEL_SDK_DISABLED: ' ' }]) {
      const parsed = readOtelEnv(env);
      assert.equal(parsed.sdkDisabled, false);
      assert.equal(parsed.attributeValueLengthLimit, DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT);
      assert.equal(parsed.metricExportIntervalMillis, 60_000);
      assert.equal(parsed.metricExportTimeoutMillis, 30_000);
    }
  });

  void it('takes well-formed values, the span-specific limit over the general one', () => {
    const parsed = readOtelEnv({
      OTEL_SDK_DISABLED: 'TRUE',
      OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '100',
      OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: ' 50 ',
      OTEL_METRIC_EXPORT_INTERVAL: '1000',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json',
      OTEL_BLRP_MAX_QUEUE_SIZE: '7',
    });
    assert.equal(parsed.sdkDisabled, true);
    assert.equal(parsed.attributeValueLengthLimit, 50);
    assert.equal(parsed.metricExportIntervalMillis, 1000);
    assert.equal(parsed.metricExportTimeoutMillis, 1000, 'cut to the interval');
    assert.deepEqual(parsed.otlpProtocol, { TRACES: 'grpc', METRICS: 'grpc', LOGS: 'http/json' });
    assert.equal(parsed.logBatch.maxQueueSize, 7);
    assert.equal(readOtelEnv({ OTEL_SDK_DISABLED: 'false' }).sdkDisabled, false);
  });

  void it('refuses any OTEL_SDK_DISABLED but true or false, naming it', () => {
    failsNaming(() => readOtelEnv({ OTEL_SDK_DISABLED: 'maybe' }), 'OTEL_SDK_DISABLED');
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 12 }).filter((s) => {
          const v = s.trim().toLowerCase();
          return v !== '' && v !== 'true' && v !== 'false';
        }),
        (value) =>
          failsNaming(() => readOtelEnv({ OTEL_SDK_DISABLED: value }), 'OTEL_SDK_DISABLED'),
      ),
    );
  });

  void it('refuses an OTLP protocol the specification does not define, naming the variable', () => {
    failsNaming(
      () => readOtelEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'carrier-pigeon' }),
      'OTEL_EXPORTER_OTLP_PROTOCOL',
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...PROTOCOL_VARIABLES),
        fc
          .string({ minLength: 1, maxLength: 16 })
          .filter(
            (s) => s.trim() !== '' && !['http/json', 'http/protobuf', 'grpc'].includes(s.trim()),
          ),
        (variable, value) => failsNaming(() => readOtelEnv({ [variable]: value }), variable),
      ),
    );
  });

  void it('refuses a number that is not a plain integer in range, naming the variable', () => {
    failsNaming(
      () => readOtelEnv({ OTEL_METRIC_EXPORT_INTERVAL: 'soon' }),
      'OTEL_METRIC_EXPORT_INTERVAL',
    );
    failsNaming(
      () => readOtelEnv({ OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '0' }),
      'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT',
    );
    failsNaming(
      () => readOtelEnv({ OTEL_METRIC_EXPORT_INTERVAL: String(2 ** 31) }),
      'OTEL_METRIC_EXPORT_INTERVAL',
    );
    fc.assert(
      fc.property(fc.constantFrom(...INTEGER_VARIABLES), notAnInteger, (variable, value) =>
        failsNaming(() => readOtelEnv({ [variable]: value }), variable),
      ),
    );
  });
});

void describe('LAKEHOUSE_HOP_KEY', () => {
  const read = (value: string | undefined): ReturnType<typeof hopSignerFromEnv> => {
    const env: Env = value === undefined ? {} : { LAKEHOUSE_HOP_KEY: value };
    return hopSignerFromEnv(env);
  };

  void it('unset or empty: a key of this process only (nothing from elsewhere is trusted)', () => {
    assert.equal(read(undefined).shared, false);
    assert.equal(read('').shared, false);
  });

  void it('refuses a key of only whitespace instead of reading it as unset', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(' ', '\t', '\n', '\r'), { minLength: 1, maxLength: 40 }),
        (chars) => failsNaming(() => read(chars.join('')), 'LAKEHOUSE_HOP_KEY'),
      ),
    );
  });

  void it('refuses a placeholder of few distinct characters, however long', () => {
    failsNaming(() => read('a'.repeat(16)), 'LAKEHOUSE_HOP_KEY');
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 1 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 16, max: 200 }),
        (alphabet, length) => {
          const key = Array.from({ length }, (_, i) => alphabet[i % alphabet.length]).join('');
          fc.pre(key.trim() === key && key.trim() !== '');
          failsNaming(() => read(key), 'LAKEHOUSE_HOP_KEY');
        },
      ),
    );
  });

  void it("takes random keys (openssl rand -hex 16 and longer) and the tests' fixed key", () => {
    for (let n = 16; n <= 64; n++) assert.equal(read(randomBytes(n).toString('hex')).shared, true);
    assert.equal(read('lakehouse-tests-and-bench-hop-key').shared, true);
  });
});
