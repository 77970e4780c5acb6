import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  extractJson,
  extractJsonObject,
  MAX_EXTRACT_CHARS,
  MAX_JSON_NESTING,
} from '../src/extract-json.js';

void describe('extractJsonObject', () => {
  void it('reads a ```json fenced block', () => {
    const text = 'Here you go:\n```json\n{"fills":[{"candidate_id":"W-1"}]}\n```\nDone.';
    assert.deepEqual(extractJsonObject(text), { fills: [{ candidate_id: 'W-1' }] });
  });

  void it('prefers the json-tagged block over an earlier untagged one', () => {
    const text = '```\n{"example":true}\n```\nanswer:\n```JSON\n{"answer":1}\n```';
    assert.deepEqual(extractJsonObject(text), { answer: 1 });
  });

  void it('reads any fenced block when none is tagged json', () => {
    assert.deepEqual(extractJsonObject('```\n{"a":1}\n```'), { a: 1 });
    assert.deepEqual(extractJsonObject('```js\n{"a":2}\n```'), { a: 2 });
  });

  void it('finds an object with prose around it inside a fenced block', () => {
    assert.deepEqual(extractJsonObject('```json\n// result\n{"a":3} trailing\n```'), { a: 3 });
  });

  void it('reads a bare object', () => {
    assert.deepEqual(extractJsonObject('  {"to":"a@b.c","subject":"s","body":"b"}  '), {
      to: 'a@b.c',
      subject: 's',
      body: 'b',
    });
  });

  void it('finds an object embedded in prose', () => {
    const text = 'Sure! The answer is {"title":"T","steps":["a","b"]} — hope that helps.';
    assert.deepEqual(extractJsonObject(text), { title: 'T', steps: ['a', 'b'] });
  });

  void it('keeps braces and quotes inside strings intact', () => {
    const text = 'x {"a":"}{ \\" }","b":{"c":"{"}} y';
    assert.deepEqual(extractJsonObject(text), { a: '}{ " }', b: { c: '{' } });
  });

  void it('skips a brace pair that is not JSON and takes the next object', () => {
    const text = 'In set notation {x | x > 1}; the result: {"ok":true}';
    assert.deepEqual(extractJsonObject(text), { ok: true });
  });

  void it('returns the inner object when the outer braces do not parse', () => {
    assert.deepEqual(extractJsonObject('{ note: {"a":1} }'), { a: 1 });
  });

  void it('ignores arrays and primitives', () => {
    assert.equal(extractJsonObject('[1,2,3]'), undefined);
    assert.equal(extractJsonObject('[{"a":1}]'), undefined);
    assert.equal(extractJsonObject('```json\n[{"a":1}]\n```'), undefined);
    assert.equal(extractJsonObject('42'), undefined);
    assert.equal(extractJsonObject('"text"'), undefined);
    assert.equal(extractJsonObject('null'), undefined);
  });

  void it('returns undefined for garbage, empty input and unbalanced braces', () => {
    assert.equal(extractJsonObject(''), undefined);
    assert.equal(extractJsonObject('I cannot help with that.'), undefined);
    assert.equal(extractJsonObject('{"a":1'), undefined);
    assert.equal(extractJsonObject('}{'), undefined);
    assert.equal(extractJsonObject('```json\nnot json\n```'), undefined);
    assert.equal(extractJsonObject(undefined as unknown as string), undefined);
  });

  // The scan budget bounds the work; the timeout only turns a runaway scan into a failure.
  void it('gives up cleanly on huge adversarial input', { timeout: 60_000 }, () => {
    const cases = [
      '{'.repeat(2_000_000),
      '{"a":'.repeat(300_000),
      `${'{ x '.repeat(200_000)}{"late":1}`,
      '```'.repeat(500_000),
      'x'.repeat(5_000_000),
    ];
    for (const text of cases) assert.equal(extractJsonObject(text), undefined, text.slice(0, 20));
  });

  void it('finds an object near the start of a huge reply and ignores text past the cap', () => {
    const text = `{"a":1}${' '.repeat(MAX_EXTRACT_CHARS * 2)}`;
    assert.deepEqual(extractJsonObject(text), { a: 1 });
    assert.equal(extractJsonObject(`${' '.repeat(MAX_EXTRACT_CHARS)}{"b":2}`), undefined);
  });
});

void describe('extractJson', () => {
  void it('returns the exact text the object was parsed from', () => {
    const found = extractJson('Answer:\n```json\n{"n": 12345678901234567891, "x": 1.0}\n```');
    assert.ok(found.ok);
    assert.equal(found.source, '{"n": 12345678901234567891, "x": 1.0}');
    assert.deepEqual(found.object, JSON.parse(found.source));
  });

  const nested = (levels: number): string =>
    '{"a":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1);

  void it(`accepts ${MAX_JSON_NESTING} nested levels and refuses one more (serde_json's limit)`, () => {
    assert.equal(extractJson(nested(MAX_JSON_NESTING)).ok, true);
    const refused = extractJson(nested(MAX_JSON_NESTING + 1));
    assert.deepEqual(refused, {
      ok: false,
      reason: 'the JSON object in the response nests deeper than 127 levels',
    });
  });

  void it('does not pick an inner object out of a refused one, even in prose', () => {
    assert.equal(extractJson(`Here: ${nested(200)} done`).ok, false);
    assert.equal(extractJson('['.repeat(500_000) + ']'.repeat(500_000)).ok, false);
    assert.deepEqual(extractJson('no braces here'), {
      ok: false,
      reason: 'no JSON object found in the response',
    });
  });

  it('says a reply past the search window was searched only that far (a valid 2 MB object is not "no JSON")', () => {
    const big = JSON.stringify({ to: 'a@b.c', body: 'x'.repeat(2_000_000) });
    const found = extractJson(big);
    assert.equal(found.ok, false);
    assert.equal(
      found.ok ? '' : found.reason,
      `no complete JSON object in the first ${MAX_EXTRACT_CHARS} characters of the response (it has ${big.length}; only that many are searched)`,
    );
  });
});
