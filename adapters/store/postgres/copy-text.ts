/**
 * Rows for `COPY ... FROM STDIN` in Postgres's text format: columns separated by tabs, one row a
 * line, NULL spelled \N. A value's backslashes, tabs and line breaks are escaped with a
 * backslash, so no value can end its column or row early, or read as \N or the end-of-data \.
 * marker; everything else (quotes, unicode) goes through as it is.
 */

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const SPECIAL = /[\\\t\n\r]/g;

type Value = string | number | boolean | null | undefined;

/** One column's value: null and undefined are NULL, others their text, as pg sends query parameters. */
export function copyValue(value: Value): string {
  if (value === null || value === undefined) return '\\N';
  return String(value).replace(SPECIAL, (c) => ESCAPES[c]);
}

/** One row: its columns' values, escaped, tab-separated, ended by a newline. */
export function copyRow(values: Value[]): string {
  return values.map(copyValue).join('\t') + '\n';
}
