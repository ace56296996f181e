/**
 * Permutation importance (Breiman 2001; scikit-learn's permutation_importance): how much worse a
 * model scores on held-out rows when one feature's values are shuffled across the rows, which
 * breaks its link with the label and keeps its distribution. Works for any model family, since it
 * needs only predictions. Positive: the model relies on the feature; about 0: it does not.
 * A feature group (an image's pixels) is shuffled as one: whole images move between rows.
 */
import { derive } from '../../core/stats/rng.ts';
import { evaluate, type Predictor } from '../bundle.ts';
import { featureGroups } from './feature-groups.ts';

type Row = Record<string, unknown>;

export interface FeatureImportance {
  feature: string;
  /** Mean over repeats of the score lost (accuracy points as a fraction, or RMSE gained). */
  mean: number;
  std: number;
  /** Each repeat's loss. */
  losses: number[];
}

export interface PermutationImportance {
  /** 'accuracy' (higher is better) or 'rmse' (lower is better). */
  metric: 'accuracy' | 'rmse';
  /** The score on the rows as they are. */
  baseline: number;
  rows: number;
  repeats: number;
  seed: number;
  features: FeatureImportance[];
}

export interface PermutationImportanceInput {
  rows: readonly Row[];
  /** The features to shuffle, each a set of row keys shuffled together. */
  features: ReadonlyArray<{ name: string; keys: readonly string[] }>;
  score: (rows: readonly Row[]) => number;
  metric: PermutationImportance['metric'];
  repeats: number;
  seed: number;
}

export function permutationImportance(input: PermutationImportanceInput): PermutationImportance {
  const { rows, features, score, metric, repeats, seed } = input;
  if (rows.length < 2) throw new RangeError(`permutationImportance: need at least 2 rows (got ${rows.length})`);
  if (!Number.isInteger(repeats) || repeats < 1)
    throw new RangeError(`permutationImportance: repeats must be a positive integer (got ${repeats})`);
  const baseline = score(rows);
  const loss = (permuted: number) => (metric === 'accuracy' ? baseline - permuted : permuted - baseline);
  const out = features.map((feature, f) => {
    const losses: number[] = [];
    for (let r = 0; r < repeats; r++) {
      // Keyed by (feature, repeat): each shuffle is the same whatever else is measured.
      const rng = derive(seed, f, r);
      const order = Array.from({ length: rows.length }, (_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng.int(0, i);
        [order[i], order[j]] = [order[j], order[i]];
      }
      const shuffled = rows.map((row, i) => {
        const copy = { ...row };
        for (const key of feature.keys) copy[key] = rows[order[i]][key];
        return copy;
      });
      losses.push(loss(score(shuffled)));
    }
    const mean = losses.reduce((a, v) => a + v, 0) / repeats;
    const std = Math.sqrt(losses.reduce((a, v) => a + (v - mean) ** 2, 0) / repeats);
    return { feature: feature.name, mean, std, losses };
  });
  return { metric, baseline, rows: rows.length, repeats, seed, features: out };
}

/** A loaded model's permutation importance on labelled rows: accuracy for a classifier, RMSE for a regression model. */
export function predictorImportance(
  predictor: Pick<Predictor, 'task' | 'classes' | 'probabilities' | 'preprocessor'>,
  rows: readonly Row[],
  labels: readonly string[],
  options: { repeats: number; seed: number },
): PermutationImportance {
  const metric = predictor.task === 'regression' ? 'rmse' : 'accuracy';
  // Shuffled rows keep their positions, so the labels line up.
  const score = (scored: readonly Row[]) => {
    const e = evaluate(predictor, scored, labels);
    return metric === 'rmse' ? e.rmse! : e.accuracy;
  };
  const features = featureGroups(predictor.preprocessor).map((g) => ({ name: g.name, keys: g.features }));
  return permutationImportance({ rows, features, score, metric, ...options });
}
