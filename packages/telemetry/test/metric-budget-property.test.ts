// Issue 12 invariant 1 on generated input, through the real SDK: each instrument has its own
// series budget (a flooded one never folds another's series), and what folds keeps the labels
// our code chose (token type, verdict), so sums by those stay exact.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Attributes } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import fc from 'fast-check';
import { hostileText } from '@lakehouse/test-support';
import { createBoundedMeterProvider } from '../src/index.js';

class CollectingReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

async function points(reader: CollectingReader, name: string) {
  const { resourceMetrics } = await reader.collect();
  const metric = resourceMetrics.scopeMetrics
    .flatMap((s) => s.metrics)
    .find((m) => m.descriptor.name === name);
  return (metric?.dataPoints ?? []).map((p) => ({
    attributes: p.attributes,
    value: p.value as number,
  }));
}

function setup(maxSeries: number) {
  const reader = new CollectingReader();
  const sdk = new MeterProvider({ readers: [reader] });
  const meter = createBoundedMeterProvider(sdk, { maxSeries }).getMeter('property');
  return { reader, sdk, meter };
}

const verdicts = fc.constantFrom('accepted', 'max_iter_exhausted', 'infra_error');
const tokenTypes = fc.constantFrom('input', 'output');

void describe('property: per-instrument metric budgets through the SDK', () => {
  void it('a flood on one instrument never folds another instrument with the same keys', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 30 }),
        fc.array(hostileText(16), { maxLength: 120 }),
        fc.uniqueArray(hostileText(16), { minLength: 1, maxLength: 30 }),
        async (maxSeries, flood, quietModels) => {
          const { reader, sdk, meter } = setup(maxSeries);
          const flooded = meter.createCounter('flooded');
          const quiet = meter.createCounter('quiet');
          for (const model of flood) flooded.add(1, { model });
          const recorded = quietModels.slice(0, maxSeries);
          for (const model of recorded) quiet.add(1, { model });
          const got = await points(reader, 'quiet');
          assert.deepEqual(
            got.map((p) => p.attributes['model']).sort(),
            [...recorded].sort(),
            'every quiet series as recorded',
          );
          const floodedPoints = await points(reader, 'flooded');
          assert.ok(floodedPoints.length <= maxSeries + 1, `${floodedPoints.length} series`);
          await sdk.shutdown();
        },
      ),
      { numRuns: 100 },
    );
  });

  void it('folded measurements keep their code-chosen labels: sums by verdict and token type stay exact', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.tuple(hostileText(20), verdicts, tokenTypes, fc.integer({ min: 1, max: 9 })), {
          maxLength: 200,
        }),
        async (maxSeries, records) => {
          const { reader, sdk, meter } = setup(maxSeries);
          const counter = meter.createCounter('sessions');
          const expected = new Map<string, number>();
          for (const [model, verdict, type, n] of records) {
            counter.add(n, {
              'gen_ai.request.model': model,
              final_verdict: verdict,
              'gen_ai.token.type': type,
            });
            const key = `${verdict}/${type}`;
            expected.set(key, (expected.get(key) ?? 0) + n);
          }
          const actual = new Map<string, number>();
          for (const { attributes, value } of await points(reader, 'sessions')) {
            const a: Attributes = attributes;
            if (a['otel.metric.overflow'] === true)
              assert.equal(a['gen_ai.request.model'], undefined, 'the client value folds');
            const key = `${String(a['final_verdict'])}/${String(a['gen_ai.token.type'])}`;
            actual.set(key, (actual.get(key) ?? 0) + value);
          }
          assert.deepEqual(actual, expected);
          await sdk.shutdown();
        },
      ),
      { numRuns: 100 },
    );
  });
});
