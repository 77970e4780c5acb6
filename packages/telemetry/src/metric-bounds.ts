import { diag } from '@opentelemetry/api';
import type { Attributes, AttributeValue } from '@opentelemetry/api';
import type { IAttributesProcessor } from '@opentelemetry/sdk-metrics';
import { boundText } from './bounds.js';

/** Longest metric label value kept (characters); longer ones are cut and end in `…`. */
export const METRIC_LABEL_MAX_LENGTH = 128;

/** Distinct label sets one instrument keeps for the process's lifetime; later ones fold into one. */
export const METRIC_MAX_SERIES = 200;

/** The label set new series fold into past {@link METRIC_MAX_SERIES}: the OTel SDK's overflow set. */
export const METRIC_OVERFLOW_ATTRIBUTES: Readonly<Attributes> = Object.freeze({
  'otel.metric.overflow': true,
});

// A label value whose mask threw: never the unmasked value.
const MASK_FAILED = '[unavailable]';
// Distinct attribute-key sets tracked at all; instruments have a handful each.
const MAX_SHAPES = 256;
// Elements kept of an array-valued label.
const MAX_ARRAY_ELEMENTS = 16;

/** Options of {@link createBoundedAttributesProcessor}. */
export interface MetricBoundsOptions {
  /** Default {@link METRIC_LABEL_MAX_LENGTH}. */
  maxLabelLength?: number;
  /** Default {@link METRIC_MAX_SERIES}. */
  maxSeries?: number;
  /** Applied once to each new string label value (e.g. a secret mask); must be pure. */
  maskLabel?: (value: string) => string;
}

/** A bounding attributes processor plus how many measurements it folded into the overflow set. */
export interface BoundedAttributesProcessor extends IAttributesProcessor {
  /** Measurements recorded on the overflow set so far. */
  readonly overflowCount: number;
}

function boundValue(
  value: AttributeValue,
  maxLength: number,
  mask: ((value: string) => string) | undefined,
): AttributeValue {
  if (typeof value === 'string') {
    const cut = boundText(value, maxLength);
    if (mask === undefined) return cut;
    try {
      return boundText(mask(cut), maxLength);
    } catch {
      return MASK_FAILED;
    }
  }
  if (Array.isArray(value)) {
    return value
      .slice(0, MAX_ARRAY_ELEMENTS)
      .map((v: unknown) =>
        typeof v === 'string' ? boundValue(v, maxLength, mask) : v,
      ) as AttributeValue;
  }
  return value;
}

/**
 * A metric-view attributes processor that bounds what clients can put into label values: every
 * string value is cut to `maxLabelLength` characters, and each attribute-key set (one per
 * instrument in practice: keys are chosen by code, never by clients) keeps at most `maxSeries`
 * distinct label sets for the process's
 * lifetime; measurements with a new set past that fold into {@link METRIC_OVERFLOW_ATTRIBUTES}.
 * The SDK's own `aggregationCardinalityLimit` counts series per collection only, so under
 * cumulative temporality (Prometheus) it lets the exposition grow by that many every scrape.
 * Never throws; the first overflow of each key set is logged through `diag`.
 */
export function createBoundedAttributesProcessor(
  options: MetricBoundsOptions = {},
): BoundedAttributesProcessor {
  const maxLength = options.maxLabelLength ?? METRIC_LABEL_MAX_LENGTH;
  const maxSeries = options.maxSeries ?? METRIC_MAX_SERIES;
  const mask = options.maskLabel;
  // key set -> (identity of the cut values -> the bounded, masked attributes)
  const shapes = new Map<string, Map<string, Attributes>>();
  const warned = new Set<string>();
  let overflowCount = 0;

  const overflow = (shape: string): Attributes => {
    overflowCount += 1;
    if (!warned.has(shape)) {
      warned.add(shape);
      diag.warn(
        `@lakehouse/telemetry: a metric with labels {${shape.trim().split('\n').join(', ')}} reached ${maxSeries} series; new label sets fold into otel.metric.overflow=true`,
      );
    }
    return METRIC_OVERFLOW_ATTRIBUTES;
  };

  return {
    get overflowCount() {
      return overflowCount;
    },
    process(incoming: Attributes): Attributes {
      // One pass in the instrument's own key order (code-chosen, so stable per call site).
      // Length-prefixed values keep the identity unambiguous; huge values are cut first, so they
      // are never hashed or kept.
      let shape = '';
      let id = '';
      for (const key in incoming) {
        const value = incoming[key];
        if (value === undefined) continue;
        shape += `${key}\n`;
        if (typeof value === 'string') {
          const cut = value.length > maxLength ? boundText(value, maxLength) : value;
          id += `${cut.length}:${cut}`;
        } else if (typeof value === 'number' || typeof value === 'boolean') {
          id += `#${String(value)};`;
        } else {
          const text = JSON.stringify(value);
          const cut = text.slice(0, maxLength * MAX_ARRAY_ELEMENTS);
          id += `${cut.length};${cut}`;
        }
      }
      if (shape === '') return incoming;
      let sets = shapes.get(shape);
      if (sets === undefined) {
        if (shapes.size >= MAX_SHAPES) return overflow('(too many label sets)');
        sets = new Map();
        shapes.set(shape, sets);
      }
      const known = sets.get(id);
      if (known !== undefined) return known;
      if (sets.size >= maxSeries) return overflow(shape);
      const bounded: Attributes = {};
      for (const key in incoming) {
        const value = incoming[key];
        if (value !== undefined) bounded[key] = boundValue(value, maxLength, mask);
      }
      sets.set(id, bounded);
      return bounded;
    },
  };
}
