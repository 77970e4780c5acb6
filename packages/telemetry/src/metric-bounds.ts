import { diag } from '@opentelemetry/api';
import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { boundText } from './bounds.js';

/** Longest metric label value kept (characters); longer ones are cut and end in `…`. */
export const METRIC_LABEL_MAX_LENGTH = 128;

/** Distinct label sets one instrument keeps for the process's lifetime; later ones fold. */
export const METRIC_MAX_SERIES = 200;

/**
 * UTF-8 bytes of client label values (keys not in {@link METRIC_CODE_KEYS}) one instrument's
 * exposition may carry: a value is charged once per line its series produces (a histogram's
 * every bucket, `_sum` and `_count`), so long names fold sooner and the text stays small whatever
 * their size.
 */
export const METRIC_MAX_LABEL_BYTES = 16 * 1024;

/** The OTel SDK's default histogram bucket boundaries (when an instrument advises none). */
export const SDK_DEFAULT_HISTOGRAM_BOUNDARIES: readonly number[] = Object.freeze([
  0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000,
]);

/** Prometheus lines one series of a histogram produces: its buckets, `+Inf`, `_sum`, `_count`. */
export function histogramLinesPerSeries(boundaries: readonly number[] | undefined): number {
  return (boundaries ?? SDK_DEFAULT_HISTOGRAM_BOUNDARIES).length + 3;
}

/** Overflow series one instrument keeps (one per combination of code-chosen values). */
export const METRIC_MAX_OVERFLOW_SERIES = 32;

/** The bare overflow set (the OTel SDK's), used once an instrument's overflow series are spent. */
export const METRIC_OVERFLOW_ATTRIBUTES: Readonly<Attributes> = Object.freeze({
  'otel.metric.overflow': true,
});

/**
 * Label keys whose values our code picks from a small fixed set: an overflow series keeps them
 * (so token type, verdict or route survive a client flooding model names). Any other key is
 * treated as client-derived and folded.
 */
export const METRIC_CODE_KEYS: readonly string[] = Object.freeze([
  'gen_ai.operation.name',
  'gen_ai.provider.name',
  'gen_ai.token.type',
  'error.type',
  'http.request.method',
  'http.response.status_code',
  'http.route',
  'url.scheme',
  'final_verdict',
  'verdict',
  'kind',
  'category',
  'reason',
  'header',
]);

// A label value whose mask threw: never the unmasked value.
const MASK_FAILED = '[unavailable]';
// Elements kept of an array-valued label.
const MAX_ARRAY_ELEMENTS = 16;

/** Options of {@link createBoundedAttributesProcessor} (and of the bounded meter provider). */
export interface MetricBoundsOptions {
  /** Default {@link METRIC_LABEL_MAX_LENGTH}. */
  maxLabelLength?: number;
  /** Default {@link METRIC_MAX_SERIES}. */
  maxSeries?: number;
  /** Default {@link METRIC_MAX_LABEL_BYTES}. */
  maxLabelBytes?: number;
  /** Applied once to each new string label value (e.g. a secret mask); must be pure. */
  maskLabel?: (value: string) => string;
  /** Keys kept on overflow series. Default {@link METRIC_CODE_KEYS}. */
  codeKeys?: readonly string[];
  /**
   * Client label values our configuration knows (e.g. the simulator's model names): a label set
   * whose client values are all known is never folded. Such sets have their own budget of
   * `maxSeries`, so a flood of unknown names cannot crowd them out.
   */
  knownValues?: readonly string[];
}

/** One instrument's label bounds plus how many measurements they folded into overflow series. */
export interface BoundedAttributesProcessor {
  /** The bounded label set to record instead of `incoming`. Never throws. */
  process(incoming: Attributes): Attributes;
  /** Measurements recorded on an overflow series so far. */
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

// The identity of one value, length-prefixed so concatenations stay unambiguous; huge values
// are cut first, so they are never hashed or kept.
function valueId(value: AttributeValue, maxLength: number): string {
  if (typeof value === 'string') {
    const cut = value.length > maxLength ? boundText(value, maxLength) : value;
    return `${cut.length}:${cut}`;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return `#${String(value)};`;
  const text = JSON.stringify(value);
  const cut = text.slice(0, maxLength * MAX_ARRAY_ELEMENTS);
  return `${cut.length};${cut}`;
}

// Bytes of a label value in Prometheus text, where `\`, `"` and newline are escaped.
function exposedBytes(value: string): number {
  let escapes = 0;
  for (const c of value) if (c === '\\' || c === '"' || c === '\n') escapes += 1;
  return Buffer.byteLength(value) + escapes;
}

/**
 * The label bounds of ONE instrument (the bounded meter provider makes one per instrument, so a
 * flooded instrument never folds another's series). Every string value is cut to
 * `maxLabelLength` characters and masked; the instrument keeps at most `maxSeries` label sets
 * and `maxLabelBytes` of client values as exposed (each value times `linesPerSeries`, the
 * Prometheus lines one series produces) for the process's lifetime (the SDK's
 * `aggregationCardinalityLimit` counts per collection only, so under cumulative temporality it
 * lets the exposition grow every scrape, and its overflow set drops every label). A new set past
 * the budget folds into an overflow series that keeps its code keys' values and
 * `otel.metric.overflow=true`; sets of known values have a budget of their own. Never throws;
 * the first overflow is logged through `diag`.
 */
export function createBoundedAttributesProcessor(
  options: MetricBoundsOptions = {},
  instrumentName = 'a metric',
  linesPerSeries = 1,
): BoundedAttributesProcessor {
  const maxLength = options.maxLabelLength ?? METRIC_LABEL_MAX_LENGTH;
  const maxSeries = options.maxSeries ?? METRIC_MAX_SERIES;
  const maxBytes = options.maxLabelBytes ?? METRIC_MAX_LABEL_BYTES;
  const mask = options.maskLabel;
  const codeKeys = new Set(options.codeKeys ?? METRIC_CODE_KEYS);
  const knownValues = new Set(options.knownValues ?? []);
  // identity of the label set -> the bounded, masked attributes
  const series = new Map<string, Attributes>();
  const overflowSeries = new Map<string, Attributes>();
  let clientSeries = 0;
  let knownSeries = 0;
  let clientBytes = 0;
  let overflowCount = 0;
  let warned = false;

  const bound = (incoming: Attributes): Attributes => {
    const bounded: Attributes = {};
    for (const key in incoming) {
      const value = incoming[key];
      if (value !== undefined) bounded[key] = boundValue(value, maxLength, mask);
    }
    return bounded;
  };

  const overflow = (incoming: Attributes): Attributes => {
    overflowCount += 1;
    if (!warned) {
      warned = true;
      diag.warn(
        `@lakehouse/telemetry: ${instrumentName} reached its series budget (${maxSeries} label sets, ${maxBytes} bytes of client values); new label sets fold into otel.metric.overflow=true`,
      );
    }
    let id = '';
    for (const key in incoming) {
      const value = incoming[key];
      if (value !== undefined && codeKeys.has(key))
        id += `${key.length}:${key}${valueId(value, maxLength)}`;
    }
    const known = overflowSeries.get(id);
    if (known !== undefined) return known;
    if (overflowSeries.size >= METRIC_MAX_OVERFLOW_SERIES) return METRIC_OVERFLOW_ATTRIBUTES;
    const kept: Attributes = {};
    for (const key in incoming) {
      const value = incoming[key];
      if (value !== undefined && codeKeys.has(key)) kept[key] = boundValue(value, maxLength, mask);
    }
    kept['otel.metric.overflow'] = true;
    overflowSeries.set(id, kept);
    return kept;
  };

  return {
    get overflowCount() {
      return overflowCount;
    },
    process(incoming: Attributes): Attributes {
      let id = '';
      for (const key in incoming) {
        const value = incoming[key];
        if (value !== undefined) id += `${key.length}:${key}${valueId(value, maxLength)}`;
      }
      if (id === '') return incoming;
      const kept = series.get(id);
      if (kept !== undefined) return kept;

      let allKnown = true;
      let bytes = 0;
      for (const key in incoming) {
        const value = incoming[key];
        if (value === undefined || codeKeys.has(key)) continue;
        const cut = typeof value === 'string' ? boundText(value, maxLength) : undefined;
        if (cut === undefined || !knownValues.has(cut)) allKnown = false;
        bytes += exposedBytes(cut ?? valueId(value, maxLength)) * linesPerSeries;
      }
      if (allKnown) {
        if (knownSeries >= maxSeries) return overflow(incoming);
        knownSeries += 1;
      } else {
        if (clientSeries >= maxSeries || clientBytes + bytes > maxBytes) return overflow(incoming);
        clientSeries += 1;
        clientBytes += bytes;
      }
      const bounded = bound(incoming);
      series.set(id, bounded);
      return bounded;
    },
  };
}
