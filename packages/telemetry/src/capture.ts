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
