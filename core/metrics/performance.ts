/**
 * Model performance on labelled feedback, for monitoring a served model.
 *
 * PURE module: no Node, tfjs or npm imports (it may be imported by Temporal workflow code), so it
 * stays deterministic and free of I/O.
 *
 * - classificationReport: accuracy, per-class precision/recall/F1/support, macro and weighted
 *   averages, confusion matrix and log loss, numerically equal to scikit-learn 1.9's
 *   `precision_recall_fscore_support`, `f1_score`, `confusion_matrix`, `log_loss` (labels=classes).
 * - regressionReport: MAE, RMSE, mean error and R^2 (sklearn's mean_absolute_error,
 *   sqrt(mean_squared_error), r2_score).
 * - predictionDrift: predicted-class shares of a window against the training label shares.
 * - confidenceReport: mean top probability and the share of low-confidence predictions.
 * - resolveFeedback: explicit and implicit feedback -> truth / predicted / correct arrays.
 * - fairnessReport: per-group accuracy and positive rate, and their gaps across groups.
 *
 * Empty inputs give NaN for rates ("no evidence either way", as core/stats.ts accuracy does),
 * where scikit-learn would raise.
 */
import { PSI_EPSILON } from '../stats/ks.ts';

// ---------------------------------------------------------------------------------------------
// classification

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
  const totalSupport = sum(support);
  let weighted = 0;
  for (let c = 0; c < k; c++) weighted += f1s[c] * support[c];

  const report: ClassificationReport = {
    n,
    accuracy: n === 0 ? NaN : hits / n,
    classes: [...classes],
    perClass,
    macro: { precision: mean(precisions), recall: mean(recalls), f1: mean(f1s) },
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
    const clipped = (c: string) => clip(probabilityOf(row, c, i), eps, 1 - eps);
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

// ---------------------------------------------------------------------------------------------
// regression

export interface RegressionReport {
  n: number;
  /** mean |predicted - truth| */
  mae: number;
  /** sqrt(mean (predicted - truth)^2) */
  rmse: number;
  /** mean (predicted - truth): the bias; positive = the model over-predicts. */
  meanError: number;
  /**
   * 1 - SS_res / SS_tot, sklearn's r2_score: NaN with fewer than 2 rows; when the truth is constant
   * (SS_tot = 0), 1 for a perfect prediction and 0 otherwise (force_finite=True).
   */
  r2: number;
}

/** Regression metrics; NaN for no rows. Throws a RangeError on different lengths or non-finite values. */
export function regressionReport(input: { truth: readonly number[]; predicted: readonly number[] }): RegressionReport {
  const { truth, predicted } = input;
  sameLength('regressionReport', truth.length, predicted.length, 'true values');
  for (const [what, values] of [['truth', truth], ['predicted', predicted]] as const) {
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new RangeError(`regressionReport: ${what}[${bad}] is ${values[bad]}, not a finite number`);
  }
  const n = truth.length;
  if (n === 0) return { n, mae: NaN, rmse: NaN, meanError: NaN, r2: NaN };
  let absSum = 0;
  let sqSum = 0;
  let errSum = 0;
  for (let i = 0; i < n; i++) {
    const e = predicted[i] - truth[i];
    absSum += Math.abs(e);
    sqSum += e * e;
    errSum += e;
  }
  return { n, mae: absSum / n, rmse: Math.sqrt(sqSum / n), meanError: errSum / n, r2: rSquared(truth, sqSum) };
}

function rSquared(truth: readonly number[], ssRes: number): number {
  const n = truth.length;
  if (n < 2) return NaN;
  const m = mean(truth);
  let ssTot = 0;
  for (const v of truth) ssTot += (v - m) ** 2;
  if (ssTot === 0) return ssRes === 0 ? 1 : 0;
  return 1 - ssRes / ssTot;
}

// ---------------------------------------------------------------------------------------------
// prediction drift and confidence

export interface PredictionDrift {
  /** Predictions in the window. */
  n: number;
  /** Training rows of the compared classes (sum of their classCounts). */
  referenceRows: number;
  /** The classes compared (see predictionDrift). */
  classes: string[];
  /** Share of the window predicted as each class (NaN for every class when n = 0; likewise reference). */
  current: Record<string, number>;
  /** Share of each class among the training labels. */
  reference: Record<string, number>;
  /** max over classes of |current - reference|, on the raw shares. */
  linf: number;
  /**
   * Jensen-Shannon distance (natural log, so in [0, sqrt(ln 2)]) of the two share vectors, each
   * share of 0 replaced by 1e-4 (PSI_EPSILON) and each vector then renormalised to sum 1, as
   * `scipy.spatial.distance.jensenshannon(p, q)` normalises its inputs.
   */
  jensenShannon: number;
}

/**
 * Distribution of the predicted classes in a window against the training label distribution
 * (ReferenceProfile.classCounts). The classes compared are `classes` when given, else the keys of
 * `classCounts`; in both cases followed by any other predicted value in first-seen order, so the
 * current shares always sum to 1. Distances are NaN when either side has no rows.
 */
export function predictionDrift(input: {
  predicted: readonly string[];
  classCounts: Readonly<Record<string, number>>;
  classes?: readonly string[];
}): PredictionDrift {
  const { predicted, classCounts } = input;
  const classes = [...(input.classes ?? Object.keys(classCounts))];
  const seen = new Set(classes);
  for (const p of predicted) {
    if (!seen.has(p)) {
      seen.add(p);
      classes.push(p);
    }
  }
  const counts = countBy(predicted);
  const n = predicted.length;
  const trainCount = (c: string) => (Object.hasOwn(classCounts, c) ? classCounts[c] : 0);
  const referenceRows = sum(classes.map(trainCount));
  const cur = classes.map((c) => (counts.get(c) ?? 0) / n);
  const ref = classes.map((c) => trainCount(c) / referenceRows);
  const comparable = n > 0 && referenceRows > 0;
  return {
    n,
    referenceRows,
    classes,
    current: Object.fromEntries(classes.map((c, i) => [c, cur[i]])),
    reference: Object.fromEntries(classes.map((c, i) => [c, ref[i]])),
    linf: comparable ? Math.max(...cur.map((v, i) => Math.abs(v - ref[i]))) : NaN,
    jensenShannon: comparable ? jensenShannonDistance(cur, ref) : NaN,
  };
}

/**
 * scipy.spatial.distance.jensenshannon(p, q) (base e) after replacing zero shares by PSI_EPSILON:
 * sqrt((KL(p || m) + KL(q || m)) / 2) with m = (p + q) / 2, p and q normalised to sum 1.
 */
export function jensenShannonDistance(p: readonly number[], q: readonly number[]): number {
  sameLength('jensenShannonDistance', p.length, q.length, 'shares');
  const pp = normalised(p.map((v) => (v > 0 ? v : PSI_EPSILON)));
  const qq = normalised(q.map((v) => (v > 0 ? v : PSI_EPSILON)));
  let js = 0;
  for (let i = 0; i < pp.length; i++) {
    const m = (pp[i] + qq[i]) / 2;
    js += pp[i] * Math.log(pp[i] / m) + qq[i] * Math.log(qq[i] / m);
  }
  // rounding can leave a tiny negative sum for identical vectors
  return Math.sqrt(Math.max(js, 0) / 2);
}

export interface ConfidenceReport {
  n: number;
  threshold: number;
  /** Mean over rows of the largest class probability; NaN when n = 0. */
  meanMaxProbability: number;
  /** Share of rows whose largest probability is strictly below `threshold`; NaN when n = 0. */
  lowConfidenceShare: number;
}

/**
 * How sure the model was: a falling mean top probability or a rising low-confidence share is an
 * early drift signal that needs no labels. Probabilities are used as given (not renormalised);
 * non-finite entries are ignored and a row without any counts as top probability 0.
 */
export function confidenceReport(probabilities: ReadonlyArray<Readonly<Record<string, number>>>, threshold: number): ConfidenceReport {
  if (!Number.isFinite(threshold)) throw new RangeError(`confidenceReport: threshold must be a finite number, got ${threshold}`);
  const n = probabilities.length;
  let total = 0;
  let low = 0;
  for (const row of probabilities) {
    let top = 0;
    for (const v of Object.values(row)) if (Number.isFinite(v) && v > top) top = v;
    total += top;
    if (top < threshold) low++;
  }
  return { n, threshold, meanMaxProbability: n === 0 ? NaN : total / n, lowConfidenceShare: n === 0 ? NaN : low / n };
}

// ---------------------------------------------------------------------------------------------
// feedback

/**
 * What a user told us about one prediction:
 * - label: the true class, explicitly;
 * - accepted: the prediction was right (implicit: the user went on with it);
 * - overridden: the prediction was wrong, optionally with the class the user chose instead.
 */
export type Feedback = { kind: 'label'; label: string } | { kind: 'accepted' } | { kind: 'overridden'; label?: string };

export interface FeedbackItem {
  predicted: string;
  feedback: Feedback;
}

export interface ResolvedFeedback {
  n: number;
  /** One entry per item: was the prediction right? */
  correct: boolean[];
  /** Share of correct items, over ALL items (overrides without a label included); NaN when n = 0. */
  accuracy: number;
  /** Items whose true class is known, for classificationReport: their truth and prediction... */
  truth: string[];
  predicted: string[];
  /** ...and their positions in the input, to pick the matching probabilities or groups. */
  index: number[];
  /** Overrides without a label: wrong, but their true class is unknown. */
  unknownTruth: number;
}

/**
 * Turns feedback into the arrays the metrics above take. The true class is `label` for explicit
 * labels, the prediction itself for 'accepted', and the given label for 'overridden'. An override
 * WITHOUT a label counts as wrong in `correct` / `accuracy`, but is left out of truth / predicted
 * (and so out of per-class metrics and log loss): we know the prediction was wrong, not which
 * class was right. An override whose label equals the prediction is taken at its label's word
 * (correct), so `correct` always agrees with truth === predicted where the truth is known.
 * Consequently classificationReport(truth, predicted).accuracy is over labelled items only and
 * can exceed `accuracy` here.
 */
export function resolveFeedback(items: readonly FeedbackItem[]): ResolvedFeedback {
  const correct: boolean[] = [];
  const truth: string[] = [];
  const predicted: string[] = [];
  const index: number[] = [];
  let unknownTruth = 0;
  items.forEach((item, i) => {
    const label = trueLabel(item);
    if (label === undefined) {
      correct.push(false);
      unknownTruth++;
      return;
    }
    correct.push(label === item.predicted);
    truth.push(label);
    predicted.push(item.predicted);
    index.push(i);
  });
  const hits = correct.filter(Boolean).length;
  return { n: items.length, correct, accuracy: items.length === 0 ? NaN : hits / items.length, truth, predicted, index, unknownTruth };
}

function trueLabel({ predicted, feedback }: FeedbackItem): string | undefined {
  switch (feedback.kind) {
    case 'label':
      return feedback.label;
    case 'accepted':
      return predicted;
    case 'overridden':
      return feedback.label;
  }
}

// ---------------------------------------------------------------------------------------------
// fairness

/** Groups smaller than this are reported but left out of the gaps (their rates are too noisy). */
export const DEFAULT_MIN_GROUP_SIZE = 30;

export interface GroupMetrics {
  n: number;
  /** Share of the group's rows with predicted === truth. */
  accuracy: number;
  /** Share of the group's rows predicted as positiveClass (fairlearn's selection_rate); only with positiveClass. */
  positiveRate?: number;
  /** n >= minGroupSize: the group takes part in the gaps. */
  compared: boolean;
}

export interface FairnessReport {
  minGroupSize: number;
  /** Per group, in first-seen order. */
  groups: Record<string, GroupMetrics>;
  /** The groups with at least minGroupSize rows. */
  compared: string[];
  /** max - min accuracy over the compared groups; NaN with fewer than two compared groups. */
  accuracyGap: number;
  /**
   * max - min positive rate over the compared groups (only with positiveClass); NaN with fewer
   * than two compared groups.
   */
  demographicParityDifference?: number;
}

/**
 * Per-group accuracy and positive rate, and how far apart the groups are.
 *
 * demographicParityDifference follows fairlearn's `demographic_parity_difference(y_true, y_pred,
 * sensitive_features=groups, method='between_groups')` (fairlearn/metrics/_fairness_metrics.py):
 * "the difference between the largest and the smallest group-level selection rate, E[h(X) | A=a],
 * across all values a of the sensitive feature(s)", where selection_rate is the share of
 * predictions equal to the positive label. Two deliberate differences: groups with fewer than
 * `minGroupSize` rows are left out (a group of 3 rows has rates of 0, 1/3, 2/3 or 1 by chance),
 * and with fewer than two groups left the gap is NaN instead of fairlearn's 0 (nothing was compared).
 * The accuracy gap is the same between-groups difference of accuracy_score.
 */
export function fairnessReport(input: {
  groups: readonly string[];
  truth: readonly string[];
  predicted: readonly string[];
  positiveClass?: string;
  minGroupSize?: number;
}): FairnessReport {
  const { groups, truth, predicted, positiveClass } = input;
  const minGroupSize = input.minGroupSize ?? DEFAULT_MIN_GROUP_SIZE;
  sameLength('fairnessReport', groups.length, truth.length, 'true labels');
  sameLength('fairnessReport', groups.length, predicted.length, 'predictions');
  const tally = new Map<string, { n: number; hits: number; positives: number }>();
  for (let i = 0; i < groups.length; i++) {
    let t = tally.get(groups[i]);
    if (!t) tally.set(groups[i], (t = { n: 0, hits: 0, positives: 0 }));
    t.n++;
    if (truth[i] === predicted[i]) t.hits++;
    if (predicted[i] === positiveClass) t.positives++;
  }
  const out: Record<string, GroupMetrics> = {};
  const compared: string[] = [];
  for (const [g, t] of tally) {
    const m: GroupMetrics = { n: t.n, accuracy: t.hits / t.n, compared: t.n >= minGroupSize };
    if (positiveClass !== undefined) m.positiveRate = t.positives / t.n;
    out[g] = m;
    if (m.compared) compared.push(g);
  }
  const report: FairnessReport = {
    minGroupSize,
    groups: out,
    compared,
    accuracyGap: spread(compared.map((g) => out[g].accuracy)),
  };
  if (positiveClass !== undefined) report.demographicParityDifference = spread(compared.map((g) => out[g].positiveRate!));
  return report;
}

/** max - min, NaN for fewer than two values. */
function spread(values: number[]): number {
  return values.length < 2 ? NaN : Math.max(...values) - Math.min(...values);
}

// ---------------------------------------------------------------------------------------------
// helpers

function sameLength(fn: string, a: number, b: number, what: string): void {
  if (a !== b) throw new RangeError(`${fn}: ${a} rows but ${b} ${what}`);
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

function clip(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}

function sum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : sum(values) / values.length;
}

function normalised(values: number[]): number[] {
  const s = sum(values);
  return values.map((v) => v / s);
}

function countBy(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}
