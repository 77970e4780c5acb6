/** Quotes a string as a SQL string literal (single quotes doubled). Never throws. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A SQL list literal of string literals, e.g. `['a','b']`. */
export function sqlStringList(values: readonly string[]): string {
  return `[${values.map(sqlString).join(',')}]`;
}

/** The roster file format implied by a path's extension: `.csv` (optionally gzipped) or Parquet. */
export function formatForPath(path: string): 'csv' | 'parquet' {
  return /\.csv(\.gz)?$/i.test(path) ? 'csv' : 'parquet';
}
