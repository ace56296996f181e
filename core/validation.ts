/**
 * Data validation of a training snapshot against the model spec.
 *
 * PURE module: no Node, tfjs or npm imports (imported by workflow code and by ml/preprocess.ts,
 * which shares `parseNumeric` so validation and feature encoding agree on what a number is).
 *
 * A little over 400 lines: the row checks (features, labels, missing values) fill one findings
 * record in a single pass and read as one procedure; split up, they would pass that record around.
 */

/** A data row, as read from a file or the store: column name -> cell. Defined once, here. */
export type Row = Record<string, unknown>;

/** The parts of core/spec.ts's FeatureSpec that validation needs. */
export interface FeatureLike {
  name: string;
  type?: 'number' | 'category';
  min?: number;
  max?: number;
  /** Known values of a category feature. */
  values?: string[];
}

/**
 * The parts of core/spec.ts's LabelSpec that validation needs: a classifier's classes (`type` may
 * be left out, as in specs from before regression) or a regression model's number.
 */
export type LabelLike = { name: string; type?: 'category'; classes: string[] } | { name: string; type: 'number' };

export interface ValidationSpecLike {
  features: FeatureLike[];
  label: LabelLike;
  validation: { minRows: number; maxMissingFraction: number; minClassCount: number };
}

/** A regression model's labels over the rows where the label is a number. */
export interface LabelStats {
  /** Rows whose label is a number. */
  n: number;
  min: number;
  max: number;
  mean: number;
  /** Population standard deviation (numpy's default, ddof = 0): the RMSE of always predicting the mean. */
  std: number;
}

export interface ValidationReport {
  /** True when there are no hard failures (warnings do not count). */
  ok: boolean;
  rows: number;
  /** Hard failures, one readable sentence each. */
  failures: string[];
  warnings: string[];
  /** Missing values per feature (and per label column, when labels are missing). */
  missing: Record<string, number>;
  /** Numeric values outside the feature's [min, max], per feature. */
  outOfRange: Record<string, number>;
  /** Present values that are not numbers, per feature (and per label column, for a regression label). */
  wrongType: Record<string, number>;
  /** Category values not among the feature's known values, per feature. */
  unknownCategories: Record<string, number>;
  /** Label values that are not among the spec classes, with their counts. */
  unknownLabels: Record<string, number>;
  /** Rows per spec class (0 for classes that do not appear); {} for a regression label. */
  classCounts: Record<string, number>;
  /** A regression label's statistics, when at least one label is a number; absent for a classifier. */
  labelStats?: LabelStats;
}

export type ParsedNumeric = { kind: 'number'; value: number } | { kind: 'missing' } | { kind: 'invalid' };

/**
 * How a cell of a numeric feature is read, everywhere in Perennial:
 * - missing: undefined, null, NaN, or a string that is empty or only whitespace;
 * - number: a finite JS number, or a string holding one (e.g. "12.8" from a CSV, trimmed);
 * - invalid: anything else (other strings, booleans, objects, +/-Infinity).
 */
export function parseNumeric(value: unknown): ParsedNumeric {
  if (value === undefined || value === null) return { kind: 'missing' };
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return { kind: 'missing' };
    return Number.isFinite(value) ? { kind: 'number', value } : { kind: 'invalid' };
  }
  if (typeof value === 'string') {
    const s = value.trim();
    if (s === '') return { kind: 'missing' };
    // Number('0x10') and Number('1e3') are numbers too; reject what is not a decimal literal.
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return { kind: 'invalid' };
    const v = Number(s);
    return Number.isFinite(v) ? { kind: 'number', value: v } : { kind: 'invalid' };
  }
  return { kind: 'invalid' };
}

/** Label cell as a class name, or null when missing. Numbers are accepted as their decimal string. */
export function labelValue(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value.trim() === '' ? null : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return JSON.stringify(value) ?? String(value);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number') return String(value);
  if (typeof value === 'object') {
    const s = JSON.stringify(value) ?? String(value);
    return s.length > 40 ? `${s.slice(0, 40)}…` : s;
  }
  return `${String(value)} (${typeof value})`;
}

function pct(part: number, whole: number): string {
  if (whole === 0) return '0%';
  const p = (100 * part) / whole;
  return `${p < 10 ? p.toFixed(1) : p.toFixed(0)}%`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * Checks a snapshot of labelled rows against the spec. Hard failures (report.ok === false):
 * - fewer than validation.minRows rows;
 * - a feature missing in more than validation.maxMissingFraction of the rows;
 * - any present but non-numeric value of a numeric feature (with an example and its row);
 * - numeric values outside a feature's [min, max] when those are set;
 * - rows without a label;
 * - a classifier: label values that are not spec classes, fewer than two classes present, a
 *   present class with fewer than validation.minClassCount rows;
 * - a regression model: labels that are not finite numbers (numbers or numeric strings, read as
 *   numeric features are, with an example and its row), and a label that never varies (nothing to
 *   learn; R^2 is undefined).
 * Warnings: tolerated missing values (imputed with the training mean), spec classes that do not
 * appear, and features that are constant over the snapshot.
 *
 * Scope 'rows' checks a batch about to join the training data (an import) for what its rows can
 * get wrong on their own: wrong types, out-of-range values, unknown categories and classes,
 * missing labels. How many rows there are, which classes appear, a missing share, constant
 * columns and a label that never varies are the whole window's business, judged at the retrain.
 */
export function validateRows(
  rows: ReadonlyArray<Record<string, unknown>>,
  spec: ValidationSpecLike,
  scope: 'snapshot' | 'rows' = 'snapshot',
): ValidationReport {
  const { features, label, validation } = spec;
  const n = rows.length;
  const failures: string[] = [];
  const warnings: string[] = [];
  const missing: Record<string, number> = {};
  const outOfRange: Record<string, number> = {};
  const wrongType: Record<string, number> = {};
  const unknownLabels: Record<string, number> = {};
  const unknownCategories: Record<string, number> = {};
  const classCounts: Record<string, number> = {};

  const whole = scope === 'snapshot';
  if (whole && n < validation.minRows) {
    failures.push(`Only ${plural(n, 'row')}; at least ${validation.minRows} are required.`);
  }

  for (const f of features.filter((f) => f.type === 'category')) {
    const known = new Set(f.values ?? []);
    let nMissing = 0;
    let nUnknown = 0;
    let firstUnknown: { row: number; value: unknown } | undefined;
    for (let i = 0; i < n; i++) {
      const value = labelValue(rows[i][f.name]);
      if (value === null) nMissing++;
      else if (!known.has(value)) {
        nUnknown++;
        firstUnknown ??= { row: i, value: rows[i][f.name] };
      }
    }
    if (nMissing > 0) missing[f.name] = nMissing;
    if (whole && n > 0 && nMissing / n > validation.maxMissingFraction) {
      failures.push(
        `Feature "${f.name}" is missing in ${nMissing} of ${n} rows (${pct(nMissing, n)}); at most ${pct(validation.maxMissingFraction, 1)} may be missing.`,
      );
    } else if (nMissing > 0) {
      warnings.push(`Feature "${f.name}" is missing in ${plural(nMissing, 'row')} (${pct(nMissing, n)}); they are encoded as no category.`);
    }
    if (firstUnknown) {
      unknownCategories[f.name] = nUnknown;
      failures.push(
        `Feature "${f.name}" has ${plural(nUnknown, 'value')} outside its categories [${[...known].join(', ')}], ` +
          `e.g. ${describe(firstUnknown.value)} in row ${firstUnknown.row + 1}.`,
      );
    }
  }

  for (const f of features.filter((f) => f.type !== 'category')) {
    let nMissing = 0;
    let nWrong = 0;
    let nOut = 0;
    let firstWrong: { row: number; value: unknown } | undefined;
    let firstOut: { row: number; value: number } | undefined;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const raw = rows[i][f.name];
      const parsed = parseNumeric(raw);
      if (parsed.kind === 'missing') {
        nMissing++;
      } else if (parsed.kind === 'invalid') {
        nWrong++;
        firstWrong ??= { row: i, value: raw };
      } else {
        const v = parsed.value;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
        if ((f.min !== undefined && v < f.min) || (f.max !== undefined && v > f.max)) {
          nOut++;
          firstOut ??= { row: i, value: v };
        }
      }
    }
    if (nMissing > 0) missing[f.name] = nMissing;
    if (nWrong > 0) wrongType[f.name] = nWrong;
    if (nOut > 0) outOfRange[f.name] = nOut;

    if (whole && n > 0 && nMissing / n > validation.maxMissingFraction) {
      failures.push(
        `Feature "${f.name}" is missing in ${nMissing} of ${n} rows (${pct(nMissing, n)}); ` +
          `at most ${pct(validation.maxMissingFraction, 1)} may be missing.`,
      );
    } else if (nMissing > 0) {
      warnings.push(
        `Feature "${f.name}" is missing in ${plural(nMissing, 'row')} (${pct(nMissing, n)}); they are imputed with the training mean.`,
      );
    }
    if (firstWrong) {
      failures.push(
        `Feature "${f.name}" has ${plural(nWrong, 'non-numeric value')}, ` +
          `e.g. ${describe(firstWrong.value)} in row ${firstWrong.row + 1}.`,
      );
    }
    if (firstOut) {
      const range = `[${f.min ?? '-inf'}, ${f.max ?? 'inf'}]`;
      failures.push(
        `Feature "${f.name}" has ${plural(nOut, 'value')} outside ${range}, e.g. ${firstOut.value} in row ${firstOut.row + 1}.`,
      );
    }
    if (whole && n > 1 && nMissing + nWrong < n && lo === hi) {
      warnings.push(`Feature "${f.name}" is constant (${lo}) in this snapshot; it carries no information.`);
    }
  }

  const found = { failures, warnings, missing, wrongType };
  let labelStats: LabelStats | undefined;
  if (isNumberLabel(label)) labelStats = checkNumberLabels(rows, label.name, whole, found);
  else checkClassLabels(rows, label, whole ? validation.minClassCount : 0, whole, { ...found, unknownLabels, classCounts });

  return {
    ok: failures.length === 0,
    rows: n,
    failures,
    warnings,
    missing,
    outOfRange,
    wrongType,
    unknownCategories,
    unknownLabels,
    classCounts,
    ...(labelStats ? { labelStats } : {}),
  };
}

/**
 * A regression label, as core/spec.ts's isRegression reads it (`type: number`; no type is a
 * classifier's label). Repeated here because this module imports nothing at run time.
 */
function isNumberLabel(label: LabelLike): label is Extract<LabelLike, { type: 'number' }> {
  return label.type === 'number';
}

/** Where the label checks write what they find: the report's own lists and counts. */
interface LabelFindings {
  failures: string[];
  warnings: string[];
  missing: Record<string, number>;
  wrongType: Record<string, number>;
}

/** Every label one of the spec classes, at least two classes present, each with enough rows. */
function checkClassLabels(
  rows: ReadonlyArray<Record<string, unknown>>,
  label: { name: string; classes: string[] },
  minClassCount: number,
  whole: boolean,
  found: LabelFindings & { unknownLabels: Record<string, number>; classCounts: Record<string, number> },
): void {
  const { failures, warnings, missing, unknownLabels, classCounts } = found;
  const n = rows.length;
  for (const c of label.classes) classCounts[c] = 0;
  const classSet = new Set(label.classes);
  let missingLabels = 0;
  for (let i = 0; i < n; i++) {
    const v = labelValue(rows[i][label.name]);
    if (v === null) missingLabels++;
    else if (classSet.has(v)) classCounts[v]++;
    else unknownLabels[v] = (unknownLabels[v] ?? 0) + 1;
  }
  if (missingLabels > 0) {
    missing[label.name] = missingLabels;
    failures.push(`Label "${label.name}" is missing in ${plural(missingLabels, 'row')}.`);
  }
  const unknown = Object.entries(unknownLabels).sort((p, q) => q[1] - p[1]);
  if (unknown.length > 0) {
    const total = unknown.reduce((s, [, c]) => s + c, 0);
    const shown = unknown
      .slice(0, 5)
      .map(([v, c]) => `${JSON.stringify(v)} (${c})`)
      .join(', ');
    failures.push(
      `Label "${label.name}" has ${plural(total, 'value')} outside the spec classes [${label.classes.join(', ')}]: ` +
        `${shown}${unknown.length > 5 ? `, and ${unknown.length - 5} more` : ''}.`,
    );
  }
  const present = label.classes.filter((c) => classCounts[c] > 0);
  if (whole && n > 0 && present.length < 2) {
    failures.push(
      present.length === 0
        ? 'No row has a spec class as its label; at least two classes must appear.'
        : `Only class "${present[0]}" appears; at least two classes must appear.`,
    );
  }
  for (const c of present) {
    if (classCounts[c] < minClassCount) {
      failures.push(`Class "${c}" has only ${plural(classCounts[c], 'row')}; every present class needs at least ${minClassCount}.`);
    }
  }
  const absent = label.classes.filter((c) => classCounts[c] === 0);
  if (whole && absent.length > 0 && n > 0) {
    warnings.push(
      `Spec ${absent.length === 1 ? 'class' : 'classes'} ${absent.map((c) => `"${c}"`).join(', ')} ${absent.length === 1 ? 'does' : 'do'} not appear.`,
    );
  }
}

/**
 * Every label a finite number, read as a numeric feature's cell is (parseNumeric); the label must
 * vary. Returns the statistics of the numeric labels (undefined when there are none).
 */
function checkNumberLabels(
  rows: ReadonlyArray<Record<string, unknown>>,
  name: string,
  whole: boolean,
  found: LabelFindings,
): LabelStats | undefined {
  const { failures, missing, wrongType } = found;
  const n = rows.length;
  let nMissing = 0;
  let nWrong = 0;
  let firstMissing: number | undefined;
  let firstWrong: { row: number; value: unknown } | undefined;
  // Welford's running mean and sum of squared deviations: one pass, no cancellation.
  let count = 0;
  let mean = 0;
  let m2 = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const raw = rows[i][name];
    const parsed = parseNumeric(raw);
    if (parsed.kind === 'missing') {
      nMissing++;
      firstMissing ??= i;
    } else if (parsed.kind === 'invalid') {
      nWrong++;
      firstWrong ??= { row: i, value: raw };
    } else {
      const v = parsed.value;
      count++;
      const delta = v - mean;
      mean += delta / count;
      m2 += delta * (v - mean);
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (firstMissing !== undefined) {
    missing[name] = nMissing;
    failures.push(`Label "${name}" is missing in ${plural(nMissing, 'row')}, e.g. row ${firstMissing + 1}.`);
  }
  if (firstWrong) {
    wrongType[name] = nWrong;
    failures.push(
      `Label "${name}" has ${plural(nWrong, 'non-numeric value')}, e.g. ${describe(firstWrong.value)} in row ${firstWrong.row + 1}; ` +
        'a regression label must be a finite number.',
    );
  }
  if (n > 0 && count === 0) {
    failures.push(`No row has a number as its label "${name}"; a regression model needs numeric labels.`);
    return undefined;
  }
  if (count === 0) return undefined;
  if (whole && min === max)
    failures.push(`Label "${name}" is ${min} in every row with a number; a regression model needs labels that vary.`);
  return { n: count, min, max, mean, std: Math.sqrt(m2 / count) };
}

/** Multi-line, human-readable rendering of a report (for logs, the CLI and workflow failure messages). */
export function formatReport(report: ValidationReport): string {
  const lines: string[] = [];
  const problems = report.failures.length;
  lines.push(
    report.ok
      ? `Data validation passed: ${plural(report.rows, 'row')}${report.warnings.length ? `, ${plural(report.warnings.length, 'warning')}` : ''}.`
      : `Data validation FAILED: ${plural(report.rows, 'row')}, ${plural(problems, 'problem')}.`,
  );
  for (const f of report.failures) lines.push(`  x ${f}`);
  for (const w of report.warnings) lines.push(`  ! ${w}`);
  const classes = Object.entries(report.classCounts);
  if (classes.length > 0) {
    lines.push(`  classes: ${classes.map(([c, k]) => `${c} ${k}`).join(', ')}`);
  }
  const stats = report.labelStats;
  if (stats) {
    lines.push(
      `  label: ${plural(stats.n, 'number')}, min ${short(stats.min)}, max ${short(stats.max)}, mean ${short(stats.mean)}, std ${short(stats.std)}`,
    );
  }
  return lines.join('\n');
}

/** Six significant digits, without trailing zeros: 4.333333333 -> 4.33333, 12.5 -> 12.5. */
function short(x: number): string {
  return String(Number(x.toPrecision(6)));
}
