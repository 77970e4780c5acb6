// Trees rebuilt from spans a caller shaped: attribute keys it named, a parent chain it made deep.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LANGFUSE_ATTRIBUTES as LF, buildLangfuseTrees, renderTraceTree } from '../src/index.js';
import { terminalSafe } from '../src/terminal-safe.js';
import { MAX_RENDER_DEPTH } from '../src/trace-tree.js';

const TRACE = 'e'.repeat(32);
const spanId = (i: number): string => (i + 1).toString(16).padStart(16, '0');

// Names an object literal answers to, the ones the tree reads, and anything else.
const KEY = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'toString',
    'valueOf',
    'hasOwnProperty',
    'isPrototypeOf',
    '__defineGetter__',
    'model',
    'final_verdict',
    'gen_ai.usage.input_tokens',
    LF.OBSERVATION_LEVEL,
    LF.OBSERVATION_TYPE,
    LF.OBSERVATION_MODEL,
    LF.AS_ROOT,
    LF.TRACE_TAGS,
    LF.TRACE_NAME,
  ),
  fc.string({ maxLength: 12 }),
);

type AnyValue = Record<string, unknown>;
type KeyValue = { key: string; value: AnyValue };

// OTLP/JSON AnyValues, kvlists keyed like attributes.
const { value: ANY_VALUE } = fc.letrec<{ value: AnyValue; kvs: KeyValue[] }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ maxLength: 8 }).map((s) => ({ stringValue: s })),
    fc.constantFrom('true', 'false', 'ERROR', 'WARNING').map((s) => ({ stringValue: s })),
    fc.boolean().map((b) => ({ boolValue: b })),
    fc.integer().map((n) => ({ intValue: String(n) })),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => ({ doubleValue: d })),
    fc.array(tie('value'), { maxLength: 3 }).map((values) => ({ arrayValue: { values } })),
    tie('kvs').map((values) => ({ kvlistValue: { values } })),
  ),
  kvs: fc.array(fc.record({ key: KEY, value: tie('value') as fc.Arbitrary<AnyValue> }), {
    maxLength: 4,
  }),
}));
const ATTRIBUTES = fc.array(fc.record({ key: KEY, value: ANY_VALUE }), { maxLength: 8 });

// What an OTLP AnyValue means, decoded apart from the code under test: objects as Maps.
function decode(v: AnyValue): unknown {
  if ('stringValue' in v) return v['stringValue'];
  if ('boolValue' in v) return v['boolValue'];
  if ('intValue' in v) return Number(v['intValue']);
  if ('doubleValue' in v) return Number(v['doubleValue']);
  if ('arrayValue' in v) return (v['arrayValue'] as { values: AnyValue[] }).values.map(decode);
  return decodeList((v['kvlistValue'] as { values: KeyValue[] }).values);
}

function decodeList(list: readonly KeyValue[]): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const { key, value } of list) out.set(key, decode(value));
  return out;
}

// A tree's value in the same shape: own keys only, order-free.
function asMaps(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(asMaps);
  if (v !== null && typeof v === 'object')
    return new Map(Object.keys(v).map((k) => [k, asMaps((v as Record<string, unknown>)[k])]));
  return v;
}

function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v instanceof Map)
    return [...v.entries()].map(([k, x]) => [k, sorted(x)]).sort(([a], [b]) => (a < b ? -1 : 1));
  return v;
}

const exportRequest = (spans: object[]): unknown => ({
  resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 's' }, spans }] }],
});

describe('trees from spans whose attribute keys the caller chose', () => {
  it('keeps every attribute as its own key (`__proto__`, `constructor` …), reads only those, and renders', () => {
    fc.assert(
      fc.property(
        ATTRIBUTES,
        ATTRIBUTES,
        fc.oneof(
          fc
            .array(fc.tuple(KEY, fc.jsonValue({ maxDepth: 2 })), { maxLength: 6 })
            .map((entries) => ({ json: entries })),
          ATTRIBUTES.map((kvs) => ({ kvs })),
        ),
        (rootAttrs, childAttrs, metadata) => {
          // Metadata as the processor writes it (a JSON string, keys as the caller chose them), or
          // as another producer may: an OTLP kvlist.
          let metadataValue: AnyValue;
          let expectedMetadata: unknown;
          if ('json' in metadata) {
            const text = `{${metadata.json.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
            metadataValue = { stringValue: text };
            expectedMetadata = asMaps(JSON.parse(text) as unknown);
          } else {
            metadataValue = { kvlistValue: { values: metadata.kvs } };
            expectedMetadata = decodeList(metadata.kvs);
          }
          const spans = [
            {
              traceId: TRACE,
              spanId: spanId(0),
              name: 'root',
              startTimeUnixNano: '1000000',
              endTimeUnixNano: '3000000',
              attributes: [...rootAttrs, { key: LF.TRACE_METADATA, value: metadataValue }],
            },
            {
              traceId: TRACE,
              spanId: spanId(1),
              parentSpanId: spanId(0),
              name: 'child',
              startTimeUnixNano: '2000000',
              endTimeUnixNano: '3000000',
              attributes: childAttrs,
            },
          ];
          const [tree] = buildLangfuseTrees([exportRequest(spans)]);
          assert.ok(tree);
          const child = tree.observations.find((o) => o.name === 'child');
          assert.ok(child);
          const expected = decodeList(childAttrs);
          assert.deepEqual(sorted(asMaps(child.attributes)), sorted(expected));
          const level = expected.get(LF.OBSERVATION_LEVEL);
          assert.equal(child.level, typeof level === 'string' && level !== '' ? level : 'DEFAULT');
          const asRoot = expected.get(LF.AS_ROOT);
          assert.equal(child.isRoot, asRoot === true || asRoot === 'true');
          const model = expected.get(LF.OBSERVATION_MODEL);
          assert.equal(child.model, typeof model === 'string' && model !== '' ? model : undefined);
          assert.deepEqual(sorted(asMaps(tree.metadata)), sorted(expectedMetadata));
          const text = renderTraceTree(tree);
          const verdict = (expectedMetadata as Map<string, unknown>).get('final_verdict');
          const name = decodeList(rootAttrs).get(LF.TRACE_NAME);
          const header = `trace ${TRACE}  ${terminalSafe(typeof name === 'string' && name !== '' ? name : 'root')}  ${terminalSafe(typeof verdict === 'string' && verdict !== '' ? verdict : (tree.roots[0]?.level ?? ''))}  `;
          assert.ok(
            text.startsWith(header),
            `${JSON.stringify(text.split('\n')[0])} starts ${JSON.stringify(header)}`,
          );
          assert.ok(text.includes('└─ child'));
        },
      ),
      { numRuns: 300, includeErrorInReport: true },
    );
  });
});

describe('trees of any depth', () => {
  it(`renders a parent chain tens of thousands deep: ${MAX_RENDER_DEPTH} levels, then a note counting the rest`, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 150_000 }),
        fc.integer({ min: 0, max: 50 }),
        (depth, siblings) => {
          // A chain `depth` deep under the root, plus `siblings` leaves under the chain's end.
          const chain = Array.from({ length: depth + 1 }, (_, i) => ({
            traceId: TRACE,
            spanId: spanId(i),
            ...(i > 0 ? { parentSpanId: spanId(i - 1) } : {}),
            name: `s${i}`,
            startTimeUnixNano: String(1_000_000 + i),
            endTimeUnixNano: '900000000',
          }));
          const leaves = Array.from({ length: siblings }, (_, k) => ({
            traceId: TRACE,
            spanId: spanId(depth + 1 + k),
            parentSpanId: spanId(depth),
            name: `leaf${k}`,
            startTimeUnixNano: String(1_000_000 + depth + 1 + k),
            endTimeUnixNano: '900000000',
          }));
          const [tree] = buildLangfuseTrees([exportRequest([...chain, ...leaves])]);
          assert.ok(tree);
          assert.equal(tree.observations.length, depth + 1 + siblings);
          const lines = renderTraceTree(tree).split('\n');
          // s1 sits at level 0 under the header, s{d} at level d-1, the leaves at level `depth`.
          const belowRoot = depth + siblings;
          const printed =
            Math.min(depth, MAX_RENDER_DEPTH) + (depth < MAX_RENDER_DEPTH ? siblings : 0);
          const hidden = belowRoot - printed;
          assert.equal(lines.length, 1 + printed + (hidden > 0 ? 1 : 0));
          assert.match(lines[1] ?? '', /^└─ s1 /);
          if (hidden > 0)
            assert.equal(
              lines.at(-1),
              `! ${hidden} observation${hidden === 1 ? '' : 's'} deeper than ${MAX_RENDER_DEPTH} levels not shown`,
            );
          else assert.doesNotMatch(lines.at(-1) ?? '', /deeper than/);
        },
      ),
      {
        numRuns: 6,
        includeErrorInReport: true,
        examples: [
          [100_000, 0],
          [MAX_RENDER_DEPTH, 3],
          [MAX_RENDER_DEPTH - 1, 2],
        ],
      },
    );
  });
});
