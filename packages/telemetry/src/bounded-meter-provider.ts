import type {
  Attributes,
  BatchObservableCallback,
  Context,
  Meter,
  MeterOptions,
  MeterProvider,
  MetricOptions,
  Observable,
  ObservableCallback,
} from '@opentelemetry/api';
import { createBoundedAttributesProcessor, histogramLinesPerSeries } from './metric-bounds.js';
import type { BoundedAttributesProcessor, MetricBoundsOptions } from './metric-bounds.js';

/** A meter provider whose every instrument bounds its labels on its own budget. */
export interface BoundedMeterProvider extends MeterProvider {
  /** Measurements folded into overflow series so far, over all instruments. */
  readonly overflowCount: number;
}

type Bound = (attributes: Attributes | undefined) => Attributes | undefined;

// Each observable the bounded meter hands out, to the SDK's own and its bounds (batch callbacks
// name observables, and the SDK only knows its own objects).
const innerObservables = new WeakMap<Observable, { inner: Observable; bound: Bound }>();

function boundedObservable(inner: Observable, bound: Bound): Observable {
  const wrapped = new Map<ObservableCallback, ObservableCallback>();
  const outer: Observable = {
    addCallback(callback) {
      if (wrapped.has(callback)) return;
      const own: ObservableCallback = (result) =>
        callback({ observe: (value, attributes) => result.observe(value, bound(attributes)) });
      wrapped.set(callback, own);
      inner.addCallback(own);
    },
    removeCallback(callback) {
      const own = wrapped.get(callback);
      if (own === undefined) return;
      wrapped.delete(callback);
      inner.removeCallback(own);
    },
  };
  innerObservables.set(outer, { inner, bound });
  return outer;
}

// linesPerSeries: the Prometheus lines one series of the instrument produces.
function boundedMeter(
  inner: Meter,
  budgetFor: (instrument: string, linesPerSeries?: number) => Bound,
): Meter {
  const batchCallbacks = new Map<BatchObservableCallback, BatchObservableCallback>();
  const unwrap = (o: Observable): Observable => innerObservables.get(o)?.inner ?? o;
  return {
    createCounter(name: string, options?: MetricOptions) {
      const counter = inner.createCounter(name, options);
      const bound = budgetFor(name);
      return { add: (v: number, a?: Attributes, c?: Context) => counter.add(v, bound(a), c) };
    },
    createUpDownCounter(name: string, options?: MetricOptions) {
      const counter = inner.createUpDownCounter(name, options);
      const bound = budgetFor(name);
      return { add: (v: number, a?: Attributes, c?: Context) => counter.add(v, bound(a), c) };
    },
    createHistogram(name: string, options?: MetricOptions) {
      const histogram = inner.createHistogram(name, options);
      // The SDK buckets by the advice (we register no views), so its boundaries are these.
      const bound = budgetFor(
        name,
        histogramLinesPerSeries(options?.advice?.explicitBucketBoundaries),
      );
      return {
        record: (v: number, a?: Attributes, c?: Context) => histogram.record(v, bound(a), c),
      };
    },
    createGauge(name: string, options?: MetricOptions) {
      const gauge = inner.createGauge(name, options);
      const bound = budgetFor(name);
      return { record: (v: number, a?: Attributes, c?: Context) => gauge.record(v, bound(a), c) };
    },
    createObservableCounter(name: string, options?: MetricOptions) {
      return boundedObservable(inner.createObservableCounter(name, options), budgetFor(name));
    },
    createObservableUpDownCounter(name: string, options?: MetricOptions) {
      return boundedObservable(inner.createObservableUpDownCounter(name, options), budgetFor(name));
    },
    createObservableGauge(name: string, options?: MetricOptions) {
      return boundedObservable(inner.createObservableGauge(name, options), budgetFor(name));
    },
    addBatchObservableCallback(callback: BatchObservableCallback, observables: Observable[]) {
      if (batchCallbacks.has(callback)) return;
      const own: BatchObservableCallback = (result) =>
        callback({
          observe: (observable, value, attributes) => {
            const known = innerObservables.get(observable);
            if (known === undefined) result.observe(observable, value, attributes);
            else result.observe(known.inner, value, known.bound(attributes));
          },
        });
      batchCallbacks.set(callback, own);
      inner.addBatchObservableCallback(own, observables.map(unwrap));
    },
    removeBatchObservableCallback(callback: BatchObservableCallback, observables: Observable[]) {
      const own = batchCallbacks.get(callback);
      if (own === undefined) return;
      batchCallbacks.delete(callback);
      inner.removeBatchObservableCallback(own, observables.map(unwrap));
    },
  } as Meter;
}

/**
 * Wraps `inner` (the SDK's provider) so that each instrument, identified like the SDK does by
 * its meter and case-insensitive name, bounds its label values with its own
 * {@link createBoundedAttributesProcessor}: one instrument flooded with client values never
 * folds another's series. A view cannot do this: its one attributes processor is shared by every
 * instrument it selects and is never told which one is recording. Never throws on record.
 */
export function createBoundedMeterProvider(
  inner: MeterProvider,
  options: MetricBoundsOptions = {},
): BoundedMeterProvider {
  const meters = new Map<string, Meter>();
  const budgets = new Map<string, BoundedAttributesProcessor>();
  return {
    get overflowCount() {
      let total = 0;
      for (const budget of budgets.values()) total += budget.overflowCount;
      return total;
    },
    getMeter(name: string, version?: string, meterOptions?: MeterOptions): Meter {
      const scope = `${name}\u0000${version ?? ''}\u0000${meterOptions?.schemaUrl ?? ''}`;
      let meter = meters.get(scope);
      if (meter === undefined) {
        meter = boundedMeter(inner.getMeter(name, version, meterOptions), (instrument, lines) => {
          const key = `${scope}\u0000${instrument.toLowerCase()}`;
          let budget = budgets.get(key);
          if (budget === undefined) {
            budget = createBoundedAttributesProcessor(options, `metric ${instrument}`, lines);
            budgets.set(key, budget);
          }
          const processor = budget;
          return (attributes) =>
            attributes === undefined ? undefined : processor.process(attributes);
        });
        meters.set(scope, meter);
      }
      return meter;
    },
  };
}
