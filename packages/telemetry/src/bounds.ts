/** What a cut value ends with, so a reader sees it was cut. */
export const TRUNCATION_MARK = '…';

/**
 * `value` when it has at most `maxChars` UTF-16 units, else its first `maxChars - 1` units
 * (never half a surrogate pair) followed by {@link TRUNCATION_MARK}. Pure; O(1) on short values.
 */
export function boundText(value: string, maxChars: number): string {
  if (value.length <= maxChars) return value;
  if (maxChars <= 0) return '';
  let end = maxChars - 1;
  const last = value.charCodeAt(end - 1);
  // Do not keep a high surrogate whose low half is cut off.
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return value.slice(0, end) + TRUNCATION_MARK;
}

/**
 * A client value as it may appear inside an error message or log text: JSON-quoted (so control
 * characters and terminal escapes are escaped) and cut to `maxChars` characters first.
 */
export function quoteClientValue(value: string, maxChars = 64): string {
  return JSON.stringify(boundText(value, maxChars));
}
