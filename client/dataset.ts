/**
 * Reads labelled rows from CSV or JSON files for import as training records. Numbers in CSV
 * become numbers; empty cells become null so validation can count them as missing.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';

export type Row = Record<string, unknown>;

export class DatasetError extends Error {
  override name = 'DatasetError';
}

export function readRows(path: string): Row[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DatasetError(`cannot read ${path}: ${(err as Error).message}`);
  }
  if (path.endsWith('.json')) {
    const data = JSON.parse(text) as unknown;
    if (!Array.isArray(data) || data.some((r) => typeof r !== 'object' || r === null || Array.isArray(r))) {
      throw new DatasetError(`${path} must hold a JSON array of objects`);
    }
    return data as Row[];
  }
  try {
    return parse(text, {
      columns: true,
      skip_empty_lines: true,
      trim: true,
      cast: (value) => (value === '' ? null : Number.isFinite(Number(value)) ? Number(value) : value),
    }) as Row[];
  } catch (err) {
    throw new DatasetError(`${path} is not valid CSV: ${(err as Error).message}`);
  }
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
