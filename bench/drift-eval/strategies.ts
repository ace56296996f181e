/**
 * What the prequential benches share (bench/drift-eval/index.ts, and the online section of
 * bench/automl/online.ts): the bank of models one stream's strategies train and serve, the
 * retrain workflow's holdout gate, Perennial's policy strategy, and the scores of a run.
 */
import { splitSnapshot } from '../../activities/data.ts';
import { beatsChampion } from '../../core/promotion.ts';
import {
  compareWithAnchor,
  INITIAL_MODEL,
  lastRows,
  PolicyMonitor,
  type PrequentialRun,
  type Retrain,
  type Row,
  type ServedWindow,
} from '../../core/prequential.ts';
import type { ModelFiles } from '../../core/contracts.ts';
import { evaluate, type Predictor } from '../../ml/bundle.ts';
import type { PolicyDecision, StrategyScore, StrategySummary } from './results.ts';
import { EPOCHS, trainPredictor, type StreamSetup } from './setup.ts';

/** A model's outcome on one window: what the prequential scores and the monitor read. */
export interface Served {
  n: number;
  correct: number;
  /** Sum over the rows of -ln p(true class), p clipped to [1e-15, 1]. */
  lossSum: number;
  served: ServedWindow;
}

export function predictWindow(predictor: Predictor, rows: Row[], label: string): Served {
  const predictions = predictor.predict(rows);
  const truth = rows.map((r) => String(r[label]));
  const predicted = predictions.map((p) => p.label);
  return {
    n: rows.length,
    correct: predicted.filter((p, i) => p === truth[i]).length,
    lossSum: predictions.reduce((a, p, i) => a - Math.log(Math.max(p.probabilities[truth[i]] ?? 0, 1e-15)), 0),
    served: { rows, truth, predicted, probabilities: predictions.map((p) => p.probabilities) },
  };
}

/** A Perennial challenger: the real pipeline's split of the training window ending with window w, trained on its training part. */
export const challengerThrough = (w: number) => `challenger through ${w}`;

/** How a model of the bank learns: afresh on rows, or continuing a parent model on rows (a warm start). */
type Recipe = { rows: Row[] } | { parent: string; rows: Row[]; epochs: number; learningRate?: number };

/** What training one model cost: its wall time, and rows x epochs (the same on any machine). */
export interface TrainingCost {
  ms: number;
  rowEpochs: number;
}

/**
 * The models of one stream, trained once each and shared by the strategies: INITIAL_MODEL on the
 * initial data; trainedThrough(w) on the training window ending with window w (a scheduled retrain,
 * always promoted); challengerThrough(w) as the retrain workflow trains one (activities/data.ts
 * splitSnapshot: the most recent holdoutFraction held out for the promotion gate, the rest shuffled
 * into training and validation; the fixed configuration needs no validation, so it goes unused as in
 * a sweep's best trial); and warm starts a strategy names with `continued`.
 */
export function modelBank(setup: StreamSetup, seed: number) {
  const { spec } = setup;
  const cache = new Map<string, Promise<{ predictor: Predictor; files: ModelFiles }>>();
  const costs = new Map<string, TrainingCost>();
  const continuations = new Map<string, Recipe>();
  const trainingWindow = (w: number): Row[] =>
    lastRows([...setup.initial, ...setup.windows.slice(0, w + 1).flatMap((win) => win.rows)], setup.trainRows);
  const split = (w: number) => splitSnapshot(trainingWindow(w), spec.training.holdoutFraction, spec.training.sweep.seed);
  const recipeOf = (model: string): Recipe => {
    if (model === INITIAL_MODEL) return { rows: lastRows(setup.initial, setup.trainRows) };
    const continued = continuations.get(model);
    if (continued) return continued;
    const [, kind, w] = /^(through|challenger through) (\d+)$/.exec(model) ?? [];
    if (kind === 'through') return { rows: trainingWindow(Number(w)) };
    if (kind === 'challenger through') return { rows: split(Number(w)).train };
    throw new Error(`drift-eval: no model named ${model}`);
  };
  const trained = (model: string) => {
    if (!cache.has(model)) {
      const recipe = recipeOf(model);
      const training = async () => {
        const warm = 'parent' in recipe ? { files: (await trained(recipe.parent)).files, ...recipe } : undefined;
        const result = await trainPredictor(spec, recipe.rows, seed, warm);
        costs.set(model, { ms: result.trainMs, rowEpochs: recipe.rows.length * (warm?.epochs ?? EPOCHS) });
        return result;
      };
      cache.set(model, training());
    }
    return cache.get(model)!;
  };
  const predictor = async (model: string): Promise<Predictor> => (await trained(model)).predictor;
  /** Challenger vs champion on holdout rows, judged by core/promotion.ts as the retrain workflow's evaluate step does. */
  const gate = async (challenger: string, champion: string, holdout: Row[]) => {
    const labels = holdout.map((r) => String(r[spec.label.name]));
    const scores = {
      challenger: evaluate(await predictor(challenger), holdout, labels),
      champion: evaluate(await predictor(champion), holdout, labels),
    };
    const promoted = beatsChampion(scores, spec.evaluation.minImprovement);
    return { promoted, holdout: { rows: holdout.length, challenger: scores.challenger.accuracy, champion: scores.champion.accuracy } };
  };
  return {
    predictor,
    /**
     * Names a model that continues `parent` on `rows` for `epochs` epochs (ml/train.ts warmStart),
     * with the parent's configuration, or its learning rate replaced. The name must say it all: the bank trains it once.
     */
    continued(model: string, recipe: { parent: string; rows: Row[]; epochs: number; learningRate?: number }): string {
      if (!continuations.has(model)) continuations.set(model, recipe);
      return model;
    },
    /** The retrain workflow's evaluate step for a full retrain after window w: challengerThrough(w) vs the champion on the most recent holdout. */
    holdoutGate: (champion: string, w: number) => gate(challengerThrough(w), champion, split(w).holdout),
    gate,
    /** What training these models cost (each counted once per name, as a strategy that trained it alone paid it). */
    costOf(models: Iterable<string>): TrainingCost {
      const sum = { ms: 0, rowEpochs: 0 };
      for (const m of models) {
        const c = costs.get(m);
        if (!c) throw new Error(`drift-eval: ${m} was not trained`);
        sum.ms += c.ms;
        sum.rowEpochs += c.rowEpochs;
      }
      return sum;
    },
    trainings: () => cache.size,
    trainMs: () => [...costs.values()].reduce((a, c) => a + c.ms, 0),
    dispose: () => cache.forEach((p) => void p.then(({ predictor }) => predictor.dispose())),
  };
}

export type ModelBank = ReturnType<typeof modelBank>;

/**
 * Perennial's retrain mode: one monitoring cycle per window judged by the spec's policies
 * (PolicyMonitor); a rule that fires starts a full retrain whose challenger serves only if it
 * passes the holdout gate. `retrain` is exposed for strategies that start full retrains of their own.
 */
export function perennialPolicies(setup: StreamSetup, models: ModelBank) {
  const monitor = new PolicyMonitor(setup.spec);
  const decisions: PolicyDecision[] = [];
  /** The challengers trained, promoted or not. */
  const trained: string[] = [];
  const observe = async (w: number, outcome: Served, champion: string) =>
    monitor.observe(outcome.served, champion, (await models.predictor(champion)).profile);
  const retrain = async (w: number, champion: string, asked: { rules: string[]; reasons: string[] }): Promise<Retrain> => {
    monitor.retrainStarted();
    const gate = await models.holdoutGate(champion, w);
    trained.push(challengerThrough(w));
    if (gate.promoted) monitor.promoted();
    decisions.push({ afterWindow: w, window: setup.windowLabels[w], ...asked, holdout: gate.holdout, promoted: gate.promoted });
    return { serves: gate.promoted ? challengerThrough(w) : champion };
  };
  return {
    monitor,
    decisions,
    trained,
    observe,
    retrain,
    async retrainAfter(w: number, outcome: Served, champion: string): Promise<Retrain> {
      const { fired } = await observe(w, outcome, champion);
      if (fired.length === 0) return false;
      return retrain(w, champion, { rules: fired.map((f) => f.rule), reasons: fired.map((f) => f.reason) });
    },
  };
}

/** Each run's accuracy and gap to the anchor, prequential log loss, and accuracy per window. */
export async function scoreRuns(
  runs: Record<string, PrequentialRun>,
  anchor: string,
  serve: (model: string, w: number) => Promise<Served>,
): Promise<Record<string, StrategyScore>> {
  const comparison = compareWithAnchor(runs, anchor);
  const strategies: Record<string, StrategyScore> = {};
  for (const [name, run] of Object.entries(runs)) {
    const served = await Promise.all(run.scores.map((s) => serve(s.model, s.window)));
    strategies[name] = {
      ...comparison[name],
      logLoss: served.reduce((a, o) => a + o.lossSum, 0) / served.reduce((a, o) => a + o.n, 0),
      retrainsAfter: run.retrainsAfter,
      promotionsAfter: run.promotionsAfter,
      accuracyByWindow: run.scores.map((s) => s.correct / s.n),
      rowsByWindow: run.scores.map((s) => s.n),
    };
  }
  return strategies;
}

/** A strategy over the seeds: the means, and the range of its gap to the anchor. */
export function summarize(scores: StrategyScore[]): StrategySummary {
  const mean = (f: (s: StrategyScore) => number) => scores.reduce((a, s) => a + f(s), 0) / scores.length;
  const gaps = scores.map((s) => s.gapPoints);
  return {
    accuracy: mean((s) => s.accuracy),
    gapPoints: mean((s) => s.gapPoints),
    gapRangePoints: [Math.min(...gaps), Math.max(...gaps)],
    gapSePoints: mean((s) => s.gapSePoints),
    logLoss: mean((s) => s.logLoss),
    retrains: mean((s) => s.retrains),
    promotions: mean((s) => s.promotions),
    retrainShare: mean((s) => s.retrainShare),
  };
}

/** Serving memoised by (model, window): models and predictions are deterministic, so strategies that serve the same model on a window share them. */
export function servingOf(setup: StreamSetup, models: ModelBank) {
  const outcomes = new Map<string, Promise<Served>>();
  return (model: string, w: number): Promise<Served> => {
    const key = `${model}:${w}`;
    if (!outcomes.has(key))
      outcomes.set(
        key,
        models.predictor(model).then((p) => predictWindow(p, setup.windows[w].rows, setup.spec.label.name)),
      );
    return outcomes.get(key)!;
  };
}
