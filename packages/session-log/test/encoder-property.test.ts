import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ARTIFACT_DEPTH_MARKER, MAX_ARTIFACT_DEPTH, encodeSessionRecord } from '../src/index.js';
import type { SessionRecord } from '../src/index.js';

// Complements the round-trip property in encoder.test.ts with what a hostile client or model can
// put in a row: prototype-named keys, keys of any script, control characters, deep nesting.

const trickyKey = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    '',
    ' ',
    '\u0000',
    'é',
    'e\u0301',
    '😀',
    '\uffff',
    '\ud800',
  ),
  fc.string({ unit: 'binary', maxLength: 6 }),
);

// Artifacts as JSON.parse makes them from text, where `__proto__` is an ordinary own key.
const artifact = fc
  .letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 3 }),
      tie('object'),
    ),
    object: fc.array(fc.tuple(trickyKey, tie('value')), { maxLength: 4 }),
  }))
  .object.map((entries) => JSON.parse(toJsonText(entries)) as Record<string, unknown>);

// Builds JSON text from entries (JSON.stringify of an object would drop a `__proto__` entry).
function toJsonText(value: unknown): string {
  if (
    Array.isArray(value) &&
    value.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string')
  ) {
    return `{${(value as Array<[string, unknown]>).map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`).join(',')}}`;
  }
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  return JSON.stringify(value);
}

function record(art: Record<string, unknown>, prompt = 'p'): SessionRecord {
  return {
    sessionId: '4bf92f3577b34da6a3ce929d0e0e4736',
    timestamp: '2026-01-01T00:00:00.000000Z',
    daemon: 'gateway',
    kind: 'fill',
    model: 'm',
    provider: 'sim',
    prompt,
    iterations: 1,
    maxIterations: 3,
    finalVerdict: 'accepted',
    attempts: [{ iteration: 0, verdictKind: 'accepted' }],
    artifact: art,
    groundedInRoster: true,
    durationMs: 5,
  };
}

// Keys of every object, at every depth, in the order the line wrote them.
function keyOrders(line: string): string[][] {
  const orders: string[][] = [];
  JSON.parse(line, function (this: Record<string, unknown>, _key, value: unknown) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      orders.push(Object.keys(value));
    return value;
  });
  return orders;
}

const utf8Order = (a: string, b: string) =>
  Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

describe('property: hostile artifacts and prompts still encode to one valid row', () => {
  it('keeps prototype-named keys as data, sorted by UTF-8 bytes at every depth', () => {
    fc.assert(
      fc.property(artifact, (art) => {
        const line = encodeSessionRecord(record(art));
        assert.equal(line.indexOf('\n'), line.length - 1, 'one line');
        const row = JSON.parse(line) as { artifact: Record<string, unknown> };
        // Same own keys as the input (lone surrogates become U+FFFD).
        const wf = (s: string) => (s as unknown as { toWellFormed(): string }).toWellFormed();
        assert.deepEqual(Object.keys(row.artifact).sort(), Object.keys(art).map(wf).sort());
        // Visited bottom-up: attempts[0] first, then the artifact's objects, the row itself last.
        const artifactObjects = keyOrders(line).slice(1, -1);
        assert.ok(artifactObjects.length >= 1);
        for (const keys of artifactObjects) {
          const sorted = [...keys].sort(utf8Order);
          assert.deepEqual(keys, sorted);
        }
        assert.equal(
          Object.getPrototypeOf(row.artifact),
          Object.prototype,
          'no prototype was replaced',
        );
      }),
      { numRuns: 500 },
    );
  });

  it('escapes every control character in prompts, so no row spans two lines', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom(
            '\n',
            '\r',
            '\u2028',
            '\u2029',
            '\u0000',
            '\u001f',
            '\u0085',
            'a',
            '"',
            '\\',
          ),
          maxLength: 60,
        }),
        (prompt) => {
          const line = encodeSessionRecord(record({}, prompt));
          assert.equal(line.split('\n').length, 2);
          // eslint-disable-next-line no-control-regex
          assert.ok(!/[\u0000-\u001f]/.test(line.slice(0, -1)), 'no raw control character');
          assert.equal((JSON.parse(line) as { prompt: string }).prompt, prompt);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('encodes artifacts nested up to 128 levels, writes the depth marker past that, never throws', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20_000 }), fc.boolean(), (depth, useArrays) => {
        const inner = useArrays
          ? '['.repeat(depth) + ']'.repeat(depth)
          : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
        const source = `{"x":${inner}}`;
        const art = JSON.parse(source) as Record<string, unknown>;
        for (const artifactJson of [undefined, source]) {
          const line = encodeSessionRecord({ ...record(art), artifactJson });
          const written = (JSON.parse(line) as { artifact: unknown }).artifact;
          // The artifact itself is one level: {"x": ...} around `depth` more.
          if (depth + 1 <= MAX_ARTIFACT_DEPTH) assert.deepEqual(written, art);
          else assert.deepEqual(written, JSON.parse(ARTIFACT_DEPTH_MARKER));
        }
      }),
      { numRuns: 100 },
    );
  });
});
