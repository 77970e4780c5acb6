import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  metrics,
  propagation,
  ROOT_CONTEXT,
  trace,
  TraceFlags,
} from '@opentelemetry/api';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { Context } from '@opentelemetry/api';
import {
  createPropagator,
  isSeededTraceContext,
  LakehouseTraceIdPropagator,
  TRACE_HEADER_REJECTED_METRIC,
  TRACE_ID_HEADER,
} from '../src/index.js';

const VALID = '0af7651916cd43dd8448eb211c80319c';
const OTHER = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${OTHER}-00f067aa0ba902b7-01`;

class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

const reader = new TestReader();
const meterProvider = new MeterProvider({ readers: [reader] });

async function rejected(): Promise<Map<string, number>> {
  const { resourceMetrics } = await reader.collect();
  const out = new Map<string, number>();
  for (const sm of resourceMetrics.scopeMetrics) {
    for (const m of sm.metrics) {
      if (m.descriptor.name !== TRACE_HEADER_REJECTED_METRIC) continue;
      for (const dp of m.dataPoints) {
        out.set(
          `${String(dp.attributes['header'])}/${String(dp.attributes['reason'])}`,
          dp.value as number,
        );
      }
    }
  }
  return out;
}

function extract(headers: Record<string, string | string[]>): Context {
  return propagation.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
}

function traceIdOf(ctx: Context): string | undefined {
  return trace.getSpanContext(ctx)?.traceId;
}

describe('composite propagator: extract', () => {
  before(() => {
    metrics.setGlobalMeterProvider(meterProvider);
    propagation.setGlobalPropagator(createPropagator());
  });
  after(async () => {
    propagation.disable();
    metrics.disable();
    await meterProvider.shutdown();
  });

  let counts: Map<string, number>;
  beforeEach(async () => {
    counts = await rejected();
  });
  async function delta(key: string): Promise<number> {
    return ((await rejected()).get(key) ?? 0) - (counts.get(key) ?? 0);
  }

  it('no headers: no span context (the server span starts a fresh trace)', () => {
    const ctx = extract({});
    assert.equal(trace.getSpanContext(ctx), undefined);
    assert.equal(isSeededTraceContext(ctx), false);
  });

  it('valid x-lakehouse-trace-id (lower, upper, UUID) seeds a sampled remote parent', () => {
    for (const value of [VALID, VALID.toUpperCase(), '0AF76519-16cd-43DD-8448-eb211c80319c']) {
      const ctx = extract({ [TRACE_ID_HEADER]: value });
      const sc = trace.getSpanContext(ctx);
      assert.equal(sc?.traceId, VALID);
      assert.match(sc?.spanId ?? '', /^[0-9a-f]{16}$/);
      assert.equal(sc?.traceFlags, TraceFlags.SAMPLED);
      assert.equal(sc?.isRemote, true);
      assert.equal(isSeededTraceContext(ctx), true);
    }
  });

  it('valid traceparent is used as is and is not marked seeded', () => {
    const ctx = extract({ traceparent: TRACEPARENT });
    assert.equal(traceIdOf(ctx), OTHER);
    assert.equal(trace.getSpanContext(ctx)?.spanId, '00f067aa0ba902b7');
    assert.equal(isSeededTraceContext(ctx), false);
  });

  it('both present and different: traceparent wins, nothing counted', async () => {
    const ctx = extract({ traceparent: TRACEPARENT, [TRACE_ID_HEADER]: VALID });
    assert.equal(traceIdOf(ctx), OTHER);
    assert.equal(isSeededTraceContext(ctx), false);
    assert.deepEqual(await rejected(), counts);
  });

  const invalid: [string, string, string][] = [
    ['all zeros', '0'.repeat(32), 'all_zeros'],
    ['31 hex', 'a'.repeat(31), 'wrong_length'],
    ['33 hex', 'a'.repeat(33), 'wrong_length'],
    ['non-hex', 'z'.repeat(32), 'non_hex'],
    ['CRLF injection', `${VALID}\r\nSet-Cookie: a=b`, 'control_chars'],
    ['10 KB value', 'f'.repeat(10 * 1024), 'too_long'],
  ];
  for (const [name, value, reason] of invalid) {
    it(`invalid x-lakehouse-trace-id (${name}) is ignored and counted as ${reason}`, async () => {
      const ctx = extract({ [TRACE_ID_HEADER]: value });
      assert.equal(trace.getSpanContext(ctx), undefined);
      assert.equal(await delta(`x-lakehouse-trace-id/${reason}`), 1);
    });
  }

  it('an array value (repeated header) is ignored and counted', async () => {
    const ctx = extract({ [TRACE_ID_HEADER]: [VALID, OTHER] });
    assert.equal(trace.getSpanContext(ctx), undefined);
    assert.equal(await delta('x-lakehouse-trace-id/not_string'), 1);
    // A one-element array (some carriers) is unwrapped.
    assert.equal(traceIdOf(extract({ [TRACE_ID_HEADER]: [VALID] })), VALID);
  });

  it('an invalid traceparent is counted; a valid mirror header then seeds the trace', async () => {
    const ctx = extract({ traceparent: '00-not-a-trace-01', [TRACE_ID_HEADER]: VALID });
    assert.equal(traceIdOf(ctx), VALID);
    assert.equal(isSeededTraceContext(ctx), true);
    assert.equal(await delta('traceparent/invalid'), 1);
    extract({ traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` });
    assert.equal(await delta('traceparent/invalid'), 2);
    extract({ traceparent: `${TRACEPARENT}\r\n` });
    assert.equal(await delta('traceparent/control_chars'), 1);
  });

  it('never records the raw value in metric attributes', async () => {
    extract({ [TRACE_ID_HEADER]: 'secret-token-value' });
    for (const key of (await rejected()).keys()) assert.ok(!key.includes('secret'));
  });
});

describe('composite propagator: inject', () => {
  it('writes traceparent and x-lakehouse-trace-id carrying the same id', () => {
    const propagator = createPropagator();
    const parent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: VALID,
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: false,
    });
    const carrier: Record<string, string> = {};
    propagator.inject(parent, carrier, defaultTextMapSetter);
    assert.equal(carrier['traceparent'], `00-${VALID}-00f067aa0ba902b7-01`);
    assert.equal(carrier[TRACE_ID_HEADER], VALID);
    assert.deepEqual(
      propagator.fields().sort(),
      ['baggage', 'traceparent', 'tracestate', TRACE_ID_HEADER].sort(),
    );
  });

  it('writes nothing without a valid span context', () => {
    const carrier: Record<string, string> = {};
    new LakehouseTraceIdPropagator().inject(context.active(), carrier, defaultTextMapSetter);
    assert.deepEqual(carrier, {});
  });

  it('round-trips: a seeded context injects the seeded id', () => {
    const propagator = createPropagator();
    const seeded = propagator.extract(
      ROOT_CONTEXT,
      { [TRACE_ID_HEADER]: VALID },
      defaultTextMapGetter,
    );
    const carrier: Record<string, string> = {};
    propagator.inject(seeded, carrier, defaultTextMapSetter);
    assert.equal(carrier[TRACE_ID_HEADER], VALID);
    assert.match(carrier['traceparent'] ?? '', new RegExp(`^00-${VALID}-[0-9a-f]{16}-01$`));
  });
});
