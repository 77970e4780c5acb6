// One copy per package (packages never import each other): session-log and langfuse-processor
// both print client strings to terminals. test/src/shared-copies.test.ts keeps the two identical.
// Characters a terminal acts on instead of printing: C0 controls (ESC starts CSI and OSC 52
// clipboard writes), DEL, C1 controls (U+009B is an 8-bit CSI, U+009D an OSC), and the bidi
// overrides and isolates that reorder what is shown (Trojan Source).
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escape(ch: string): string {
  const code = ch.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `text` with every character a terminal would act on written as a visible escape (`\x1b`,
 * `\u202e`), so a client's string can be printed raw: no screen clear, no clipboard write, no
 * reordered line. Pure.
 */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, escape);
}

// Inside JSON text these characters only occur in strings, where \uXXXX means the same.
const UNSAFE_IN_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** JSON text (as JSON.stringify writes it) with C1, DEL and bidi characters \u-escaped: same value. */
export function terminalSafeJson(json: string): string {
  return json.replace(
    UNSAFE_IN_JSON,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
