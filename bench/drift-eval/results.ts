/** What bench/drift-eval/ measures per stream, seed and strategy: the shape of bench/results/drift-eval.json. */
import type { AnchorComparison, PolicyMonitor } from '../../core/prequential.ts';

/** A Perennial retrain: after which window, the rules that fired with their evidence, and the promotion gate's verdict. */
export interface PolicyDecision {
  afterWindow: number;
  window: string;
  rules: string[];
  reasons: string[];
  holdout: { rows: number; challenger: number; champion: number };
  promoted: boolean;
}

/** One strategy in one seed's run: accuracy and its gap to the anchor, retrains, prequential log loss, accuracy per window. */
export type StrategyScore = AnchorComparison & {
  logLoss: number;
  retrainsAfter: number[];
  promotionsAfter: number[];
  accuracyByWindow: number[];
  rowsByWindow: number[];
};

/** Every strategy on one stream with one training seed. */
export interface SeedRun {
  seed: number;
  strategies: Record<string, StrategyScore>;
  decisions: PolicyDecision[];
  rules: PolicyMonitor['tally'];
  trainings: number;
  trainSeconds: number;
}

/** A strategy over the seeds: means, and the range of its gap to the anchor. */
export interface StrategySummary {
  accuracy: number;
  gapPoints: number;
  gapRangePoints: [number, number];
  /** Mean over the seeds of the paired standard error of the gap (AnchorComparison.gapSePoints). */
  gapSePoints: number;
  /**
   * Mean -ln p(true class): separates models that accuracy cannot when all of them predict
   * mostly the majority class (flights).
   */
  logLoss: number;
  retrains: number;
  promotions: number;
  retrainShare: number;
}

export interface StreamResult {
  stream: string;
  about: string;
  windows: number;
  rows: number;
  windowLabels: string[];
  trainRows: number;
  /** Accuracy of always predicting the initial data's most frequent class, for scale. */
  majorityBaseline: number;
  seeds: number[];
  strategies: Record<string, StrategySummary>;
  perennial: { cooldownCycles: number; rulesInForce: string[] };
  bySeed: SeedRun[];
  seconds: number;
  /** The chart of the run with the spec's own seed (the first). */
  plot: string;
}
