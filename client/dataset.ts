/**
 * Reads labelled rows from CSV or JSON files for import as training records. Numbers in CSV
 * become numbers (read as validation reads them, core/validation.ts parseNumeric); empty cells
 * become null so validation can count them as missing. Every error names the file.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { parseNumeric, type Row } from '../core/validation.ts';
import { findForbiddenKey } from './forbidden-keys.ts';

export type { Row };

export class DatasetError extends Error {
  override name = 'DatasetError';
}

/** The rows of a file, and its columns (CSV: the header; JSON: every key of any row). */
export interface Dataset {
  rows: Row[];
  columns: string[];
}

export function readDataset(path: string): Dataset {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DatasetError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return path.endsWith('.json') ? parseJsonRows(path, text) : parseCsvRows(path, text);
}

export function readRows(path: string): Row[] {
  return readDataset(path).rows;
}

function parseJsonRows(path: string, text: string): Dataset {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new DatasetError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(data)) throw new DatasetError(`${path} must hold a JSON array of objects (one per row)`);
  const columns = new Set<string>();
  data.forEach((row: unknown, i) => {
    if (typeof row !== 'object' || row === null || Array.isArray(row))
      throw new DatasetError(`${path}: row ${i + 1} is not an object but ${JSON.stringify(row)}`);
    const forbidden = findForbiddenKey(row);
    if (forbidden)
      throw new DatasetError(`${path}: row ${i + 1} has the forbidden key "${[...forbidden.path.map(String), forbidden.key].join('.')}"`);
    for (const key of Object.keys(row)) columns.add(key);
  });
  return { rows: data as Row[], columns: [...columns] };
}

function parseCsvRows(path: string, text: string): Dataset {
  let columns: string[] = [];
  try {
    const rows = parse(text, {
      columns: (header: string[]) => {
        columns = header.map((c) => c.trim());
        checkHeader(path, columns);
        return columns;
      },
      skip_empty_lines: true,
      trim: true,
      cast: (value, context) => {
        if (context.header) return value;
        const parsed = parseNumeric(value);
        return parsed.kind === 'missing' ? null : parsed.kind === 'number' ? parsed.value : value;
      },
    }) as Row[];
    return { rows, columns };
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    throw new DatasetError(`${path} is not valid CSV: ${(err as Error).message}`);
  }
}

/** Two columns with one name would keep only the last; a `__proto__` column is refused like the JSON key. */
function checkHeader(path: string, columns: string[]): void {
  const twice = columns.filter((c, i) => columns.indexOf(c) !== i);
  if (twice.length) throw new DatasetError(`${path}: column "${twice[0]}" appears more than once in the header`);
  if (columns.includes('__proto__')) throw new DatasetError(`${path}: the header has the forbidden column "__proto__"`);
  if (columns.includes('')) throw new DatasetError(`${path}: column ${columns.indexOf('') + 1} of the header has no name`);
}

/** `--where column=value` flags as { column: value }; a flag without "=" or a column is an error. */
export function parseWhere(flags: readonly string[]): Record<string, string> {
  const where: Record<string, string> = {};
  for (const flag of flags) {
    const at = flag.indexOf('=');
    const column = at < 0 ? '' : flag.slice(0, at).trim();
    if (!column) throw new DatasetError(`--where "${flag}": expected column=value, e.g. --where location=Seattle`);
    if (column in where)
      throw new DatasetError(
        `--where names column "${column}" twice; a row cannot equal both "${where[column]}" and "${flag.slice(at + 1)}"`,
      );
    where[column] = flag.slice(at + 1);
  }
  return where;
}

/** Keeps rows whose columns equal the given values, e.g. { location: 'Seattle' }. */
export function whereEquals(rows: Row[], where: Record<string, string>): Row[] {
  return rows.filter((row) => Object.entries(where).every(([k, v]) => String(row[k]) === v));
}

/** Splits rows into record features and label for `Store.addRecords`. */
export function toRecords(rows: Row[], features: string[], label: string, source: string) {
  return rows.map((row, i) => {
    if (row[label] === undefined || row[label] === null) throw new DatasetError(`row ${i + 1} has no "${label}" label`);
    return { features: Object.fromEntries(features.map((f) => [f, row[f] ?? null])), label: String(row[label]), source };
  });
}
