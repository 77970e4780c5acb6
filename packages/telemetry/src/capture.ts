import { DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT } from './limits.js';

let limit = DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT;

/** Internal (startTelemetry): the span attribute value length limit in effect. */
export function setCaptureLimit(characters: number): void {
  limit =
    characters > 0 && Number.isFinite(characters)
      ? characters
      : DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT;
}

/**
 * `text` cut to what a span attribute keeps (the attribute value length limit, in UTF-16 units,
 * never splitting a surrogate pair). Content is cut with this BEFORE it is JSON-encoded into an
 * attribute, so a 1 MB prompt is encoded, masked and serialised once at 256 KB, not in full and
 * then truncated. Returns `text` itself when it fits.
 */
export function captureText(text: string): string {
  if (text.length <= limit) return text;
  const end = limit;
  const code = text.charCodeAt(end - 1);
  // A high surrogate at the cut would be left unpaired.
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? end - 1 : end);
}

/** The attribute value length limit {@link captureText} cuts to (characters). */
export function captureLimit(): number {
  return limit;
}

// Characters JSON.stringify writes as a two-character escape; other controls take six (\u00XX).
const SHORT_ESCAPES = new Set([0x22, 0x5c, 0x08, 0x09, 0x0a, 0x0c, 0x0d]);

/**
 * The JSON string literal of the longest beginning of `text` whose encoding is at most
 * `maxLength` characters (at least 2: `""`). For a JSON text that must stay JSON where it is
 * spliced but is over an attribute's limit: the SDK would cut its encoding mid-escape. Never
 * splits a surrogate pair. Pure.
 */
export function jsonStringPrefix(text: string, maxLength: number): string {
  let budget = maxLength - 2;
  let end = 0;
  while (end < text.length) {
    const code = text.charCodeAt(end);
    let units = 1;
    let cost = 1;
    if (SHORT_ESCAPES.has(code)) cost = 2;
    else if (code < 0x20) cost = 6;
    else if (code >= 0xd800 && code <= 0xdfff) {
      const next = text.charCodeAt(end + 1);
      const paired = code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff;
      // A pair stays raw UTF-16; a lone surrogate is escaped (\udXXX).
      units = paired ? 2 : 1;
      cost = paired ? 2 : 6;
    }
    if (cost > budget) break;
    budget -= cost;
    end += units;
  }
  return JSON.stringify(text.slice(0, end));
}
