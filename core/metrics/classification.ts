/**
 * Classification metrics on labelled rows: accuracy, and a report with per-class
 * precision/recall/F1/support, macro and weighted averages, confusion matrix and log loss,
 * numerically equal to scikit-learn 1.9's `precision_recall_fscore_support`, `f1_score`,
 * `confusion_matrix`, `log_loss` (labels=classes).
 *
 * PURE module: no Node, tfjs or npm imports (it may be imported by Temporal workflow code), so it
 * stays deterministic and free of I/O. Empty inputs give NaN for rates ("no evidence either way"),
 * where scikit-learn would raise.
 */
import { clamp } from '../stats/numbers.ts';
import { plainMean, plainSum } from '../stats/sums.ts';
import { sameLength } from './shared.ts';

/**
 * Share of positions where `pred[i] === truth[i]`. Throws when the lengths differ;
 * returns NaN for empty input (no evidence either way).
 */
export function accuracy(pred: readonly string[], truth: readonly string[]): number {
  if (pred.length !== truth.length) {
    throw new RangeError(`accuracy: ${pred.length} predictions but ${truth.length} true labels`);
  }
  if (pred.length === 0) return NaN;
  let hits = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === truth[i]) hits++;
  return hits / pred.length;
}

export interface ClassMetrics {
  /** tp / (rows predicted as the class); 0 when the class is never predicted (sklearn's zero_division="warn"). */
  precision: number;
  /** tp / (rows whose truth is the class); 0 when the class never occurs in the truth. */
  recall: number;
  /** 2 tp / (support + predicted), sklearn's formula; 0 when both are 0. */
  f1: number;
  /** Rows whose true class is this class. */
  support: number;
  /** Rows predicted as this class. */
  predicted: number;
}

export interface ClassificationReport {
  /** Rows scored. */
  n: number;
  /** Share of rows with predicted === truth, over all rows (sklearn accuracy_score); NaN when n = 0. */
  accuracy: number;
  /** The class order of `confusion` and of the macro averages. */
  classes: string[];
  perClass: Record<string, ClassMetrics>;
  /** Unweighted means over all `classes`, including classes with no support. */
  macro: { precision: number; recall: number; f1: number };
  /** Mean per-class F1 weighted by support; 0 when no row has a true class among `classes`. */
  weightedF1: number;
  /** confusion[i][j] = rows with truth classes[i] predicted as classes[j] (sklearn confusion_matrix). */
  confusion: number[][];
  /** Rows whose truth or prediction is not in `classes`: counted in accuracy, absent from `confusion`. */
  outsideClasses: number;
  /** Mean -ln p(true class), present only when probabilities were given (see logLoss). */
  logLoss?: number;
}

export interface LogLossOptions {
  /**
   * Probabilities are clipped to [eps, 1 - eps]. Default Number.EPSILON (2.22e-16), the float64
   * machine epsilon that scikit-learn >= 1.2 uses ("auto"); older releases used 1e-15.
   */
  eps?: number;
  /**
   * Divide each clipped row by its sum over `classes` before taking the log. Default false:
   * scikit-learn 1.9 (the version these numbers are checked against) only warns when rows do not
   * sum to 1; releases before 1.5 renormalised. `{ eps: 1e-15, renormalize: true }` reproduces
   * those older releases.
   */
  renormalize?: boolean;
}

export interface ClassificationInput {
  truth: readonly string[];
  predicted: readonly string[];
  /** One record per row: class -> probability. A class absent from a record has probability 0. */
  probabilities?: ReadonlyArray<Readonly<Record<string, number>>>;
  /** The model's classes; duplicates are rejected. */
  classes: readonly string[];
  logLoss?: LogLossOptions;
}

/**
 * Classification metrics over `classes` (scikit-learn with labels=classes). Truth or predicted
 * values outside `classes` still count in accuracy (as misses) and, like sklearn, a prediction of
 * class c whose truth is outside `classes` is a false positive of c; such rows are left out of the
 * confusion matrix (counted in `outsideClasses`). Throws a RangeError when lengths differ or
 * `classes` is empty or has duplicates.
 */
export function classificationReport(input: ClassificationInput): ClassificationReport {
  const { truth, predicted, probabilities, classes } = input;
  sameLength('classificationReport', truth.length, predicted.length, 'true labels');
  const index = classIndex('classificationReport', classes);
  const n = truth.length;
  const k = classes.length;
  const tp = new Array<number>(k).fill(0);
  const support = new Array<number>(k).fill(0);
  const predictedCount = new Array<number>(k).fill(0);
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let hits = 0;
  let outsideClasses = 0;
  for (let i = 0; i < n; i++) {
    const t = index.get(truth[i]);
    const p = index.get(predicted[i]);
    if (truth[i] === predicted[i]) hits++;
    if (t !== undefined) support[t]++;
    if (p !== undefined) predictedCount[p]++;
    if (t !== undefined && p !== undefined) {
      confusion[t][p]++;
      if (t === p) tp[t]++;
    } else {
      outsideClasses++;
    }
  }

  const perClass: Record<string, ClassMetrics> = {};
  const precisions: number[] = [];
  const recalls: number[] = [];
  const f1s: number[] = [];
  for (let c = 0; c < k; c++) {
    const m: ClassMetrics = {
      precision: ratioOrZero(tp[c], predictedCount[c]),
      recall: ratioOrZero(tp[c], support[c]),
      // sklearn computes F from the counts, not from the (possibly zero-division) P and R
      f1: ratioOrZero(2 * tp[c], support[c] + predictedCount[c]),
      support: support[c],
      predicted: predictedCount[c],
    };
    perClass[classes[c]] = m;
    precisions.push(m.precision);
    recalls.push(m.recall);
    f1s.push(m.f1);
  }
  const totalSupport = plainSum(support);
  let weighted = 0;
  for (let c = 0; c < k; c++) weighted += f1s[c] * support[c];

  const report: ClassificationReport = {
    n,
    accuracy: n === 0 ? NaN : hits / n,
    classes: [...classes],
    perClass,
    macro: { precision: plainMean(precisions), recall: plainMean(recalls), f1: plainMean(f1s) },
    weightedF1: ratioOrZero(weighted, totalSupport),
    confusion,
    outsideClasses,
  };
  if (probabilities) report.logLoss = logLoss(truth, probabilities, classes, input.logLoss);
  return report;
}

/**
 * Mean over rows of -ln p(true class), as scikit-learn 1.9's `log_loss(truth, P, labels=classes)`:
 * every probability is clipped to [eps, 1 - eps] (and, with `renormalize`, each row is then divided
 * by its sum over `classes`). Only the `classes` keys of a record are read; a missing key is 0.
 * A true label outside `classes` is scored with probability eps (as ml/bundle.ts `evaluate` does;
 * sklearn would raise). NaN for no rows. Throws a RangeError when lengths differ or a probability
 * is not a number in [0, 1] (sklearn raises too).
 */
export function logLoss(
  truth: readonly string[],
  probabilities: ReadonlyArray<Readonly<Record<string, number>>>,
  classes: readonly string[],
  options: LogLossOptions = {},
): number {
  sameLength('logLoss', truth.length, probabilities.length, 'probability rows');
  classIndex('logLoss', classes);
  const eps = options.eps ?? Number.EPSILON;
  if (!(eps > 0 && eps < 0.5)) throw new RangeError(`logLoss: eps must be in (0, 0.5), got ${eps}`);
  const n = truth.length;
  if (n === 0) return NaN;
  const known = new Set(classes);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const row = probabilities[i];
    const clipped = (c: string) => clamp(probabilityOf(row, c, i), eps, 1 - eps);
    let p = known.has(truth[i]) ? clipped(truth[i]) : eps;
    if (options.renormalize) {
      let rowSum = 0;
      for (const c of classes) rowSum += clipped(c);
      p /= rowSum;
    }
    total -= Math.log(p);
  }
  return total / n;
}

function classIndex(fn: string, classes: readonly string[]): Map<string, number> {
  if (classes.length === 0) throw new RangeError(`${fn}: no classes`);
  const index = new Map(classes.map((c, i) => [c, i] as const));
  if (index.size !== classes.length) throw new RangeError(`${fn}: duplicate classes in [${classes.join(', ')}]`);
  return index;
}

function probabilityOf(row: Readonly<Record<string, number>>, c: string, i: number): number {
  const v = Object.hasOwn(row, c) ? row[c] : 0;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
    throw new RangeError(`logLoss: probability of "${c}" in row ${i} is ${String(v)}, not a number in [0, 1]`);
  }
  return v;
}

/** a / b, or 0 when b is 0: scikit-learn's zero_division="warn" result (without the warning). */
function ratioOrZero(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}
