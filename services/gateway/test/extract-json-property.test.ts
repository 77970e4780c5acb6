import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { extractJson, extractJsonObject, MAX_JSON_NESTING } from '../src/extract-json.js';

// A JSON object as it arrives off the wire: JSON.parse of its text (so `__proto__` is an own key).
const jsonObject = fc
  .dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 })
  .map((o) => JSON.parse(JSON.stringify(o)) as Record<string, unknown>);

// Prose that cannot itself contain a JSON object or a fence.
const prose = fc.string({
  unit: fc.constantFrom('a', 'Z', ' ', '\n', '.', ':', 'é', '😀', '"', ']'),
  maxLength: 40,
});

// Text made of JSON's structural characters: the worst case for a brace scanner.
const jsonish = fc.string({
  unit: fc.constantFrom('{', '}', '[', ']', '"', '\\', ':', ',', '`', 'a', '1', ' ', '\n', 'json'),
  maxLength: 300,
});

describe('property: extractJsonObject', () => {
  it('returns the object itself for its bare JSON text, pretty or compact', () => {
    fc.assert(
      fc.property(jsonObject, fc.boolean(), (object, pretty) => {
        assert.deepEqual(
          extractJsonObject(JSON.stringify(object, null, pretty ? 2 : undefined)),
          object,
        );
      }),
      { numRuns: 300 },
    );
  });

  it('finds an object embedded in prose', () => {
    fc.assert(
      fc.property(prose, jsonObject, prose, (before, object, after) => {
        const text = `Here it is${before} ${JSON.stringify(object)} ${after}`;
        assert.deepEqual(extractJsonObject(text), object);
      }),
      { numRuns: 300 },
    );
  });

  it('prefers a ```json fenced block over objects in the prose around it', () => {
    // Fences may be inline (```{…}```), so backticks inside the JSON strings make the fences
    // ambiguous by design: such objects are left out.
    const noBackticks = jsonObject.filter((o) => !JSON.stringify(o).includes('`'));
    fc.assert(
      fc.property(noBackticks, noBackticks, prose, (decoy, object, words) => {
        const text = `Example: ${JSON.stringify(decoy)}${words}\n\`\`\`json\n${JSON.stringify(object)}\n\`\`\`\nThanks.`;
        assert.deepEqual(extractJsonObject(text), object);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws, and returns only plain objects, for any text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 500 }), jsonish), (text) => {
        const found = extractJsonObject(text);
        if (found !== undefined) {
          assert.equal(typeof found, 'object');
          assert.ok(found !== null && !Array.isArray(found));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('returns nothing for a JSON array or primitive on its own', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
          // A string whose text holds `{…}` is prose with an object in it, found on purpose.
          fc.string().filter((s) => !s.includes('{')),
          fc.integer(),
          fc.boolean(),
          fc.constant(null),
        ),
        (value) => {
          assert.equal(extractJsonObject(JSON.stringify(value)), undefined);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('stays bounded on long hostile input (unbalanced braces, unterminated strings and fences)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('{', '{"a":', '"', '```', '{"a":"\\'),
        fc.integer({ min: 1_000, max: 50_000 }),
        (piece, times) => {
          assert.equal(extractJsonObject(piece.repeat(times)), undefined);
        },
      ),
      { numRuns: 20 },
    );
  });

  void it('accepts exactly the objects nested at most MAX_JSON_NESTING levels, at any depth, without throwing', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 1, max: 30_000 }), fc.integer({ min: 120, max: 135 })),
        fc.constantFrom('{"k":', '[', '{"":['),
        prose,
        (levels, opener, around) => {
          // `inner` holds depth - 1 containers; the {"v": …} around it makes `depth`.
          let inner = '1';
          let depth = 1;
          while (depth < levels) {
            inner = opener === '[' ? `[${inner}]` : opener === '{"k":' ? `{"k":${inner}}` : `{"":[${inner}]}`;
            depth += opener === '{"":[' ? 2 : 1;
          }
          const found = extractJson(`${around}{"v":${inner}}${around}`);
          assert.equal(found.ok, depth <= MAX_JSON_NESTING, `${depth} levels`);
          if (found.ok) assert.deepEqual(found.object, JSON.parse(found.source));
        },
      ),
      { numRuns: 100 },
    );
  });
});
