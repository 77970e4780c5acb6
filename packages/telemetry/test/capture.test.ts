import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { jsonStringPrefix } from '../src/index.js';

// Text heavy in what JSON escapes: quotes, backslashes, controls, lone and paired surrogates.
const escapeHeavy = fc
  .array(
    fc.oneof(
      fc.constantFrom('"', '\\', '\n', '\u0001', '\u001f', '\ud83d', '\ude00', '😀', 'é', 'a'),
      fc.string({ unit: 'binary', maxLength: 3 }),
    ),
    { maxLength: 200 },
  )
  .map((parts) => parts.join(''));

void describe('jsonStringPrefix', () => {
  void it('is a JSON string within the length, of the longest beginning that fits', () => {
    fc.assert(
      fc.property(escapeHeavy, fc.integer({ min: 2, max: 400 }), (text, maxLength) => {
        const out = jsonStringPrefix(text, maxLength);
        assert.ok(out.length <= maxLength, `${out.length} > ${maxLength}`);
        const prefix = JSON.parse(out) as unknown;
        assert.equal(typeof prefix, 'string');
        assert.ok(text.startsWith(prefix as string));
        const kept = (prefix as string).length;
        if (kept < text.length) {
          // One more character (a whole pair) would not fit, and no pair is split.
          const code = text.charCodeAt(kept);
          const next = text.charCodeAt(kept + 1);
          const step = code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
          assert.ok(JSON.stringify(text.slice(0, kept + step)).length > maxLength);
          const last = text.charCodeAt(kept - 1);
          assert.ok(!(last >= 0xd800 && last <= 0xdbff && code >= 0xdc00 && code <= 0xdfff));
        }
      }),
    );
  });

  void it('keeps a text whose encoding fits whole', () => {
    assert.equal(jsonStringPrefix('{"a":"b"}', 100), JSON.stringify('{"a":"b"}'));
    assert.equal(jsonStringPrefix('abc', 2), '""');
  });
});
