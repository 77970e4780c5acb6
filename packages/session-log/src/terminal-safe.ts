// One copy per package (packages never import each other): session-log and langfuse-processor
// both print client strings to terminals. test/src/shared-copies.test.ts keeps the two identical.
// Characters a terminal acts on instead of printing: C0 controls (ESC starts CSI and OSC 52
// clipboard writes), DEL, C1 controls (U+009B is an 8-bit CSI, U+009D an OSC), the line and
// paragraph separators, and every format character (Unicode Cf): the bidi marks, embeddings,
// overrides and isolates that reorder what is shown (U+200E/F, U+061C, U+202A–U+202E,
// U+2066–U+2069: Trojan Source), the zero-width ones that hide text (U+200B–U+200D, U+2060,
// U+FEFF) and the invisible tag characters (U+E0000–U+E007F).
const UNSAFE = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

function escape(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  if (code < 0x100) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\u{${code.toString(16)}}`;
}

/**
 * `text` with every character a terminal would act on, or that reorders or hides what it shows,
 * written as a visible escape (`\x1b`, `\u202e`, `\u{e0041}`), so a client's string can be
 * printed raw: no screen clear, no clipboard write, no reordered or hidden text. Pure.
 */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, escape);
}

// Inside JSON text these characters only occur in strings, where \uXXXX means the same (a
// character beyond U+FFFF as its two surrogate escapes).
const UNSAFE_IN_JSON = /[\u007f-\u009f\p{Cf}\u2028\u2029]/gu;

function jsonEscape(ch: string): string {
  let out = '';
  for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

/**
 * JSON text (as JSON.stringify writes it) with DEL, C1, separator and format characters
 * \u-escaped: the same value. Pure.
 */
export function terminalSafeJson(json: string): string {
  return json.replace(UNSAFE_IN_JSON, jsonEscape);
}
