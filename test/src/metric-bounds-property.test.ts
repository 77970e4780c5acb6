// Property: the metric attributes processor bounds every label value's length and every
// instrument's series count, whatever values clients send, and masks secrets in label values.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { defaultMask } from '@lakehouse/langfuse-processor';
import {
  createBoundedAttributesProcessor,
  METRIC_OVERFLOW_ATTRIBUTES,
  TRUNCATION_MARK,
} from '@lakehouse/telemetry';
import { anySizeText, hostileText, secretShapes } from '@lakehouse/test-support';

const label = fc.oneof(anySizeText(700_000), fc.constantFrom('sim', 'gpt-4o', 'phantom-once'));

void describe('property: bounded metric attributes', () => {
  void it(
    'cuts every label value to the cap without splitting a character',
    { timeout: 120_000 },
    () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 8, max: 300 }),
          fc.array(label, { minLength: 1, maxLength: 8 }),
          (max, values) => {
            const processor = createBoundedAttributesProcessor({
              maxLabelLength: max,
              maxSeries: 1000,
            });
            for (const value of values) {
              const out = processor.process({
                'gen_ai.request.model': value,
                'gen_ai.token.type': 'input',
              });
              const kept = out['gen_ai.request.model'];
              assert.equal(typeof kept, 'string');
              const s = kept as string;
              assert.ok(s.length <= max, `${s.length} > ${max}`);
              if (value.length <= max) assert.equal(s, value);
              else {
                assert.ok(s.endsWith(TRUNCATION_MARK));
                const prefix = s.slice(0, -TRUNCATION_MARK.length);
                assert.ok(value.startsWith(prefix));
                // A kept high surrogate always keeps its low half.
                const lastUnit = prefix.charCodeAt(prefix.length - 1);
                assert.ok(
                  !(lastUnit >= 0xd800 && lastUnit <= 0xdbff) || value.length === prefix.length,
                );
              }
              assert.equal(out['gen_ai.token.type'], 'input');
            }
          },
        ),
        { numRuns: 300 },
      );
    },
  );

  void it('keeps at most maxSeries label sets per instrument and folds the rest into one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.tuple(hostileText(12), fc.constantFrom('input', 'output')), { maxLength: 200 }),
        (maxSeries, records) => {
          const processor = createBoundedAttributesProcessor({ maxSeries });
          const outputs = new Set<string>();
          const firstSeen: string[] = [];
          for (const [model, type] of records) {
            const incoming = { 'gen_ai.request.model': model, 'gen_ai.token.type': type };
            const key = JSON.stringify(incoming);
            const out = processor.process(incoming);
            if (!firstSeen.includes(key) && firstSeen.length < maxSeries) firstSeen.push(key);
            if (firstSeen.includes(key))
              assert.deepEqual(out, incoming, 'an early series is kept as is');
            // The client's value folds; the code-chosen token type stays.
            else
              assert.deepEqual(out, { 'gen_ai.token.type': type, ...METRIC_OVERFLOW_ATTRIBUTES });
            // Deterministic: the same set maps to the same output every time.
            assert.deepEqual(processor.process(incoming), out);
            outputs.add(JSON.stringify(out));
          }
          assert.ok(outputs.size <= maxSeries + 2, `${outputs.size} series`);
          const folded =
            records.length -
            records.filter(([m, t]) =>
              firstSeen.includes(
                JSON.stringify({ 'gen_ai.request.model': m, 'gen_ai.token.type': t }),
              ),
            ).length;
          assert.equal(processor.overflowCount, folded * 2);
        },
      ),
      { numRuns: 300 },
    );
  });

  void it('keeps client values within the byte budget, however long they are', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 64, max: 4096 }),
        fc.array(anySizeText(2_000), { maxLength: 60 }),
        (maxLabelBytes, models) => {
          const processor = createBoundedAttributesProcessor({ maxLabelBytes });
          const kept = new Map<string, string>();
          for (const model of models) {
            const out = processor.process({ 'gen_ai.request.model': model, kind: 'fill' });
            assert.equal(out['kind'], 'fill', 'the code key keeps its value');
            const value = out['gen_ai.request.model'];
            if (typeof value === 'string') kept.set(value, value);
            else assert.equal(out['otel.metric.overflow'], true);
          }
          const bytes = [...kept.keys()].reduce((n, v) => n + Buffer.byteLength(v), 0);
          assert.ok(bytes <= maxLabelBytes, `${bytes} > ${maxLabelBytes}`);
        },
      ),
      { numRuns: 200 },
    );
  });

  void it('never folds a label set of known values, whatever came first', () => {
    fc.assert(
      fc.property(
        fc.array(hostileText(12), { maxLength: 300 }),
        fc.constantFrom('clean', 'phantom-once'),
        (flood, known) => {
          const processor = createBoundedAttributesProcessor({
            maxSeries: 20,
            knownValues: ['clean', 'phantom-once'],
          });
          for (const model of flood) processor.process({ model, 'gen_ai.token.type': 'input' });
          const incoming = { model: known, 'gen_ai.token.type': 'output' };
          assert.deepEqual(processor.process(incoming), incoming);
        },
      ),
      { numRuns: 200 },
    );
  });

  void it('masks secrets in label values before they are kept', () => {
    fc.assert(
      fc.property(secretShapes, hostileText(20), ({ secret }, noise) => {
        const processor = createBoundedAttributesProcessor({ maskLabel: defaultMask });
        const out = processor.process({ 'gen_ai.response.model': `${noise} ${secret}` });
        assert.ok(!String(out['gen_ai.response.model']).includes(secret));
      }),
      { numRuns: 500 },
    );
  });

  void it('never lets a throwing mask through with the raw value', () => {
    const processor = createBoundedAttributesProcessor({
      maskLabel: () => {
        throw new Error('boom');
      },
    });
    assert.deepEqual(processor.process({ model: 'sk-secret' }), { model: '[unavailable]' });
  });
});
