/**
 * Per-prediction attributions of a loaded model (what `POST /v1/models/:model/explain` answers),
 * per model input feature (ml/explain/feature-groups.ts):
 *
 * - a model that carries its tree ensemble (gbdt): exact Tree SHAP (ml/explain/tree-shap.ts),
 *   in raw score space: the regression value, a binary model's log-odds, a multiclass model's
 *   per-class margin (before the softmax, which is not additive). Rows are encoded with the
 *   model's preprocessor; the trees split on those columns.
 * - every other model (softmax, mlp, cnn networks): sampled interventional Shapley values
 *   (ml/explain/shapley.ts) of the class probability (or the regression value), against a
 *   background drawn from the model's profile.json (ml/explain/background.ts), with a standard
 *   error per feature. Seeded: the same request gets the same answer.
 *
 * Either way expected + sum(attributions) = value, the explained output at the row.
 */
import type { Predictor } from '../bundle.ts';
import { gbdtMatrix } from '../gbdt/model-files.ts';
import { profileBackground } from './background.ts';
import { composeRows, featureGroups, groupingNote, sumByGroup, type FeatureGroup } from './feature-groups.ts';
import { METHOD_SAMPLED, sampledShapley } from './shapley.ts';
import { treeShap } from './tree-shap.ts';

type Row = Record<string, unknown>;

export const METHOD_TREE = 'tree-shap';
/** Background rows drawn from the profile; E[f] is their mean. */
export const BACKGROUND_ROWS = 100;
/** Every explanation draws from this seed: the same request gets the same answer. */
export const EXPLAIN_SEED = 15;

export interface Explanation {
  method: typeof METHOD_TREE | typeof METHOD_SAMPLED;
  /** The class explained, or 'value' for a regression model. */
  output: string;
  /** What the numbers measure: the class probability, the regression value, or the trees' raw score (margin). */
  space: 'probability' | 'value' | 'raw-score';
  /** The explained output at the row: expected + the sum of the attributions. */
  value: number;
  expected: number;
  attributions: Record<string, number>;
  /** Sampled Shapley only: the standard error of each attribution. */
  standardErrors?: Record<string, number>;
}

export interface ExplainOptions {
  /** The class to explain; default each row's predicted class. Ignored for regression. */
  output?: string;
  /** Sampled Shapley only: antithetic permutation pairs per row. */
  samples: number;
}

/** The model's explanation method, and how many model rows one sample costs per explained row (0: exact, no sampling). */
export function explanationCost(predictor: Predictor): { method: Explanation['method']; rowsPerSample: number; note?: string } {
  const groups = featureGroups(predictor.preprocessor);
  const note = groupingNote(predictor.preprocessor, groups);
  if (predictor.ensemble) return { method: METHOD_TREE, rowsPerSample: 0, ...(note ? { note } : {}) };
  return { method: METHOD_SAMPLED, rowsPerSample: 2 * (groups.length - 1), ...(note ? { note } : {}) };
}

export function explainRows(predictor: Predictor, rows: readonly Row[], options: ExplainOptions): Explanation[] {
  const groups = featureGroups(predictor.preprocessor);
  if (options.output !== undefined && predictor.task === 'classification' && !predictor.classes.includes(options.output))
    throw new RangeError(`output ${JSON.stringify(options.output)} is not a class of the model (${predictor.classes.join(', ')})`);
  // Default output: the class the model predicts for the row.
  const predicted = predictor.task === 'classification' && options.output === undefined ? predictor.predict(rows).map((p) => p.label) : [];
  const classOf = (i: number) => (predictor.task === 'regression' ? undefined : (options.output ?? predicted[i]));
  return predictor.ensemble
    ? rows.map((row, i) => treeExplanation(predictor, groups, row, classOf(i)))
    : sampledExplanations(predictor, groups, rows, classOf, options.samples);
}

function treeExplanation(predictor: Predictor, groups: FeatureGroup[], row: Row, className: string | undefined): Explanation {
  const ensemble = predictor.ensemble!;
  const x = gbdtMatrix(predictor.preprocessor, [row]);
  const { phi, expected } = treeShap(ensemble, x);
  // Binary models have one output, the log-odds of classes[1]; classes[0]'s are their negation.
  let k = 0;
  let sign = 1;
  if (className !== undefined) {
    const c = predictor.classes.indexOf(className);
    if (ensemble.nOutputs === 1) sign = c === 0 ? -1 : 1;
    else k = c;
  }
  const attributions = sumByGroup(phi[k], groups).map((v) => sign * v);
  const base = sign * expected[k];
  return {
    method: METHOD_TREE,
    output: className ?? 'value',
    space: className === undefined ? 'value' : 'raw-score',
    value: base + attributions.reduce((a, v) => a + v, 0),
    expected: base,
    attributions: byName(groups, attributions),
  };
}

function sampledExplanations(
  predictor: Predictor,
  groups: FeatureGroup[],
  rows: readonly Row[],
  classOf: (i: number) => string | undefined,
  samples: number,
): Explanation[] {
  const background = profileBackground(predictor.profile, predictor.features, BACKGROUND_ROWS, EXPLAIN_SEED);
  const width = predictor.task === 'regression' ? 1 : predictor.classes.length;
  const compose = composeRows(groups);
  return rows.map((x, i) => {
    const className = classOf(i);
    const k = className === undefined ? 0 : predictor.classes.indexOf(className);
    const predict = (batch: Row[]) => {
      const out = predictor.probabilities(batch);
      return Float64Array.from({ length: batch.length }, (_, r) => out[r * width + k]);
    };
    const s = sampledShapley<Row>({ x, background, players: groups.length, compose, predict, outputs: 1, samples, seed: EXPLAIN_SEED });
    return {
      method: METHOD_SAMPLED,
      output: className ?? 'value',
      space: className === undefined ? 'value' : 'probability',
      value: s.prediction[0],
      expected: s.expected[0],
      attributions: byName(groups, s.phi[0]),
      standardErrors: byName(groups, s.standardErrors[0]),
    };
  });
}

function byName(groups: readonly FeatureGroup[], values: ArrayLike<number>): Record<string, number> {
  return Object.fromEntries(groups.map((g, i) => [g.name, values[i]]));
}
