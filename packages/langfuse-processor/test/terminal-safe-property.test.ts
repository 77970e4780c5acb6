// Property (issue 12 invariant 7): whatever a client's string holds, the CLIs print no character
// a terminal acts on or that reorders or hides text: controls, separators and every format
// character (bidi marks, overrides, isolates, zero-width, tags). session-log carries the same
// file (test/src/shared-copies.test.ts keeps them identical).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { hostileText } from '@lakehouse/test-support';
import { terminalSafe, terminalSafeJson } from '../src/terminal-safe.js';

// What must never reach a terminal raw: C0, DEL, C1, U+2028/9 and Unicode's format characters.
const ACTS_OR_HIDES = /[\p{Cc}\p{Cf}\u2028\u2029]/u;

// The ones the review named, and their neighbours, spelled out: the regex above is not the spec.
const NAMED = [
  0x061c, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2060,
  0x2066, 0x2067, 0x2068, 0x2069, 0xfeff, 0xe0001, 0xe0041, 0x001b, 0x009b, 0x2028,
];
/** The visible escape of one character: \xHH, \uHHHH, or \u{H…} past U+FFFF. */
function escapeOf(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  const hex = code.toString(16);
  if (code < 0x100) return `\\x${hex.padStart(2, '0')}`;
  return code <= 0xffff ? `\\u${hex.padStart(4, '0')}` : `\\u{${hex}}`;
}

const named = fc.constantFrom(...NAMED.map((c) => String.fromCodePoint(c)));
const hostile = fc
  .array(fc.oneof(hostileText(16), named, fc.string({ unit: 'binary', maxLength: 8 })), {
    maxLength: 12,
  })
  .map((parts) => parts.join(''));

void describe('property: terminal-safe text', () => {
  void it('leaves no control, separator or format character raw, and names each one', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const out = terminalSafe(text);
        assert.ok(!ACTS_OR_HIDES.test(out), JSON.stringify(out));
        // Each such character becomes its escape; everything else is kept as it was, in order.
        const expected = [...text].map((ch) => (ACTS_OR_HIDES.test(ch) ? escapeOf(ch) : ch));
        assert.equal(out, expected.join(''));
      }),
      { numRuns: 2000 },
    );
  });

  void it('writes each named character as its own escape (U+200F as \\u200f)', () => {
    for (const code of NAMED) {
      const ch = String.fromCodePoint(code);
      assert.equal(terminalSafe(`a${ch}b`), `a${escapeOf(ch)}b`);
    }
    assert.equal(terminalSafe('\u200f'), '\\u200f');
    assert.equal(terminalSafe('\u{e0041}'), '\\u{e0041}');
  });

  void it('keeps JSON text the same value with none of those characters raw', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const json = JSON.stringify({ text });
        const out = terminalSafeJson(json);
        assert.deepEqual(JSON.parse(out), { text });
        assert.ok(!ACTS_OR_HIDES.test(out), out);
      }),
      { numRuns: 2000 },
    );
  });
});
