/**
 * `text` cut to `n` code points (n ≥ 1), the last one an ellipsis when anything was cut. Walks
 * at most `n + 1` code points: a 30 MB field costs no more than a short one. Never splits a
 * surrogate pair.
 */
export function clipText(text: string, n: number): string {
  if (text.length <= n) return text; // at most n UTF-16 units: at most n code points
  let i = 0;
  let cut = 0;
  for (let points = 0; i < text.length; points++) {
    if (points === n - 1) cut = i;
    if (points === n) return `${text.slice(0, cut)}…`;
    const c = text.charCodeAt(i);
    const pair =
      c >= 0xd800 &&
      c < 0xdc00 &&
      i + 1 < text.length &&
      (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
    i += pair ? 2 : 1;
  }
  return text;
}
