/**
 * What `perennial import` checks before anything is stored: the file's rows, filtered by
 * --where, must have the model's columns and pass the row checks of a retrain's data
 * validation (core/validation.ts, scope 'rows'). One failing row refuses the whole file, so no
 * row that would make every retrain fail is ever stored.
 */
import type { ModelSpec } from '../core/spec.ts';
import { formatReport, validateRows, type ValidationReport } from '../core/validation.ts';
import type { LabelledRecord } from '../adapters/store/index.ts';
import { DatasetError, parseWhere, readDataset, toRecords, whereEquals } from './dataset.ts';

export class ImportRejectedError extends Error {
  override name = 'ImportRejectedError';
  constructor(
    message: string,
    readonly report?: ValidationReport,
  ) {
    super(message);
  }
}

export interface PreparedImport {
  records: LabelledRecord[];
  report: ValidationReport;
}

/** The records to store for `file`, or an ImportRejectedError that names the file and every problem. */
export function prepareImport(spec: ModelSpec, file: string, whereFlags: readonly string[] = [], source = file): PreparedImport {
  if (!source.trim()) throw new DatasetError('--source must name where the records come from');
  const where = parseWhere(whereFlags);
  const { rows, columns } = readDataset(file);
  const absent = (names: string[]) => names.filter((c) => !columns.includes(c));
  const unknownWhere = absent(Object.keys(where));
  if (unknownWhere.length)
    throw new DatasetError(
      `--where ${unknownWhere[0]}: ${file} has no column "${unknownWhere[0]}" (columns: ${columns.join(', ') || 'none'})`,
    );
  const features = spec.features.map((f) => f.name);
  const missing = absent([...features, spec.label.name]);
  if (missing.length) {
    throw new ImportRejectedError(
      `${file} cannot be imported into ${spec.name}: it has no column ${missing.map((c) => `"${c}"`).join(', ')} (columns: ${columns.join(', ') || 'none'})`,
    );
  }
  const selected = whereEquals(rows, where);
  const filter = Object.entries(where)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  if (selected.length === 0)
    throw new ImportRejectedError(
      `${file}: no rows to import${filter ? ` (none of its ${rows.length} rows match --where ${filter})` : ''}`,
    );

  const report = validateRows(selected, { features: spec.features, label: spec.label, validation: spec.validation }, 'rows');
  if (!report.ok) {
    const counted = filter ? ` (row numbers count the ${selected.length} rows matching --where ${filter})` : '';
    throw new ImportRejectedError(
      `${file} was not imported into ${spec.name}; nothing was stored${counted}:\n${formatReport(report)}`,
      report,
    );
  }
  return { records: toRecords(selected, features, spec.label.name, source), report };
}
