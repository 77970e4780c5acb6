/** `text` cut to `n` code points, the last one an ellipsis when anything was cut. */
export const clipText = (text: string, n: number): string =>
  [...text].length > n ? `${[...text].slice(0, n - 1).join('')}…` : text;
