/** Renders rows as an aligned text table with a header rule; numbers are right-aligned. */
export function formatTextTable(
  headers: readonly string[],
  rows: readonly (readonly unknown[])[],
): string {
  const cells = rows.map((row) => headers.map((_, i) => cellText(row[i])));
  const numeric = headers.map(
    (_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === 'number' || row[i] == null),
  );
  const widths = headers.map((header, i) =>
    Math.max(width(header), ...cells.map((row) => width(row[i] ?? ''))),
  );
  const line = (row: readonly string[]): string =>
    row
      .map((cell, i) => {
        const pad = ' '.repeat((widths[i] ?? 0) - width(cell));
        return numeric[i] ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(headers), rule, ...cells.map(line)].join('\n') + '\n';
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value.replace(/[\r\n\t]/g, ' ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

// Code points, a fair approximation of terminal columns for the names we print.
function width(text: string): number {
  return [...text].length;
}
