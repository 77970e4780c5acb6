import { terminalSafe } from './terminal-safe.js';

/**
 * Renders rows as an aligned text table with a header rule; numbers are right-aligned. Cells
 * are printed terminal-safe (control, C1 and bidi characters as visible escapes).
 */
export function formatTextTable(
  headers: readonly string[],
  rows: readonly (readonly unknown[])[],
): string {
  const cells = rows.map((row) => headers.map((_, i) => cellText(row[i])));
  const head = headers.map((header) => terminalSafe(header));
  const numeric = headers.map(
    (_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === 'number' || row[i] == null),
  );
  // A loop, not Math.max(...column): spreading 125,000 cells overflows the call stack.
  const widths = head.map((header) => width(header));
  for (const row of cells) {
    for (let i = 0; i < widths.length; i++) {
      widths[i] = Math.max(widths[i] ?? 0, width(row[i] ?? ''));
    }
  }
  const line = (row: readonly string[]): string =>
    row
      .map((cell, i) => {
        const pad = ' '.repeat((widths[i] ?? 0) - width(cell));
        return numeric[i] ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(head), rule, ...cells.map(line)].join('\n') + '\n';
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return terminalSafe(value.replace(/[\r\n\t]/g, ' '));
  if (typeof value === 'object') return terminalSafe(JSON.stringify(value));
  return terminalSafe(String(value));
}

// Code points, a fair approximation of terminal columns for the names we print.
function width(text: string): number {
  return [...text].length;
}
