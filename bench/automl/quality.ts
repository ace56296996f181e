/**
 * The automl benchmark's quality section: per task, a TPE sweep per search space (spaces.ts
 * QUALITY_SPACES), its best trial scored on the holdout; scikit-learn untuned on the same split
 * (sklearn_reference.py); and HistGradientBoosting and LightGBM each tuned by Optuna's TPE under
 * the same trial and wall-time budget on the same train / validation / holdout rows
 * (tuned_reference.py), the anchors issue 15 measures against.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { downloadModelFiles } from '../../adapters/mlflow/model-files.ts';
import type { SweepResult } from '../../core/sweep-loop.ts';
import { describeConfig } from '../../core/search-space.ts';
import { rungs, waveSize } from '../../core/sweep-plan.ts';
import { parseDuration } from '../../core/duration.ts';
import { isRegression, labelClasses } from '../../core/spec-reading.ts';
import { evaluate, loadPredictor } from '../../ml/bundle.ts';
import { PROJECT_ROOT } from '../../config/paths.ts';
import { VENV_BIN } from '../../stack/services.ts';
import type { LocalStack } from '../../stack/local.ts';
import { taskSpec, type createHarness, type SweepSettings } from './harness.ts';
import { QUALITY_SPACES } from './spaces.ts';
import { flightsTask, penguinsTask, syntheticTask, weatherTask, type Task } from '../shared/datasets.ts';

type Harness = Awaited<ReturnType<typeof createHarness>>;

/**
 * Each task with its sweeps' wall-time limit (which each tuned anchor gets too). At load average
 * 4 falling to 1.5 on 2 cores, one full-space sweep took 59 s (weather, 1,870 training rows),
 * 31-43 s a fold (penguins, 220), 55 s (flights, 6,400) and 136 s (synthetic, 100,000 rows of
 * which 20,000 train, 5,000 validate), none stopped by its limit; the section took 23 minutes.
 */
const QUALITY_TASKS: { task: () => Task; maxWallTime: string; folds?: number }[] = [
  { task: weatherTask, maxWallTime: '4m' },
  // 344 rows: one holdout of 69 moves by 1.4 points per row, more than the target's 1 point, so
  // every row is held out once (5 folds, each scored by every sweep and anchor) and pooled.
  { task: penguinsTask, maxWallTime: '4m', folds: 5 },
  { task: flightsTask, maxWallTime: '4m' },
  { task: syntheticTask, maxWallTime: '6m' },
];
const SEED = 7;
const TRIALS = 12;
/**
 * ASHA rungs at 45 and 135 epochs: a gbdt trial boosts up to 1,350 rounds (10 per epoch), as the
 * tuned anchors boost up to 2,000 (bench/automl/tuned_reference.py), and 3 trials a wave, so TPE
 * (which learns from first rungs) proposes the third and fourth waves from what the first ones
 * scored. Measured on the synthetic task, best full-space holdout RMSE against the best tuned
 * anchor: rungs 5/15/45/135 (one wave of 12: TPE never learns, and first rungs of 50 rounds
 * favour high learning rates) +3.8%; 15/45/135 (waves of 9 and 3, TPE learning from 150-round
 * scores) +2.1%; 45/135 +0.5% (stopped by the 6 m limit after 9 trials at load average 9).
 */
const MIN_EPOCHS = 45;
const MAX_EPOCHS = 135;
const TPE_STARTUP = 5;
const ANCHORS = ['hist_gradient_boosting', 'lightgbm'] as const;

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const lastObjective = (r: SweepResult) => r.best.objective.at(-1)!;

function sweepSettings(families: SweepSettings['families'], maxWallTime: string): SweepSettings {
  return {
    families,
    sampler: 'tpe',
    seed: SEED,
    budget: { maxTrials: TRIALS, maxEpochsPerTrial: MAX_EPOCHS, maxWallTime },
    earlyStopping: { kind: 'asha', minEpochs: MIN_EPOCHS, reductionFactor: 3 },
    parallelism: 2,
    tpe: { startupTrials: TPE_STARTUP },
  };
}

/** One sweep of one space, its best trial scored on the holdout of the split it was chosen on. */
async function sweepAndScore(h: Harness, stack: LocalStack, task: Task, families: SweepSettings['families'], maxWallTime: string) {
  const spec = taskSpec(task, sweepSettings(families, maxWallTime));
  let shown = 0;
  const { result, ms, snapshot } = await h.inProcess(task, spec, (p) => {
    if (p.rungsDone >= shown + 5) console.log(`    ${(shown = p.rungsDone)} trial rungs done, ${p.trials} trials proposed`);
  });
  const split = await h.split(spec, snapshot);
  const run = await stack.mlflow.getRun(result.best.runId);
  const predictor = await loadPredictor(await downloadModelFiles(stack.mlflow, run.artifactUri));
  const score = evaluate(
    predictor,
    split.holdout,
    split.holdout.map((r) => String(r[spec.label.name])),
  );
  predictor.dispose();
  const regression = isRegression(spec.label);
  const details = {
    best: describeConfig(result.best.config),
    trials: result.trials.length,
    stoppedBy: result.stoppedBy,
    sweepMs: ms,
    backend: run.tags['perennial.backend'],
    rows: { train: split.train.length, validation: split.validation.length, holdout: split.holdout.length },
    notes: task.notes,
  };
  const perennial = regression
    ? { holdoutRmse: score.rmse!, holdoutMae: score.mae!, bestValRmse: lastObjective(result), ...details }
    : { holdoutAccuracy: score.accuracy, holdoutLogLoss: score.logLoss, bestValAccuracy: lastObjective(result), ...details };
  console.log(
    `    ${secs(ms)}: best ${details.best}, val ${lastObjective(result).toFixed(4)}, holdout ${(regression ? score.rmse! : score.accuracy).toFixed(4)}`,
  );
  return { spec, split, perennial, holdout: regression ? score.rmse! : score.accuracy };
}

/** The exact rows, features and sweep budget, for the Python references. */
function writeSplit(dir: string, task: Task, s: Awaited<ReturnType<typeof sweepAndScore>>) {
  const { spec, split } = s;
  const sweep = spec.training.sweep;
  const file = join(dir, `${task.name}-split.json`);
  writeFileSync(
    file,
    JSON.stringify({
      name: task.name,
      source: task.source,
      features: spec.features,
      label: spec.label.name,
      classes: isRegression(spec.label) ? null : labelClasses(spec.label),
      objective: sweep.objective,
      budget: { maxTrials: sweep.budget.maxTrials, maxWallTimeSeconds: parseDuration(sweep.budget.maxWallTime) / 1000 },
      seed: sweep.seed,
      tpeStartupTrials: sweep.tpe.startupTrials,
      ...split,
    }),
  );
  return file;
}

function runReference(script: string, files: string[]): unknown {
  // Progress on stderr shows as it happens; stdout is the JSON.
  const py = spawnSync(join(VENV_BIN, 'python'), [join(PROJECT_ROOT, 'bench', 'automl', script), ...files], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (py.status !== 0) throw new Error(`${script} failed (exit ${py.status}; its error is printed above)`);
  return JSON.parse(py.stdout);
}

interface TunedAnchor {
  /** Holdout accuracy (classification) or RMSE (regression) of the best trial's model. */
  holdout: number;
  holdoutLogLoss?: number;
  bestValObjective: number;
  trials: number;
  wallTimeS: number;
  best: Record<string, number>;
}
type TunedTask = { metric: 'accuracy' | 'rmse'; constant: { holdout: number } } & Record<(typeof ANCHORS)[number], TunedAnchor>;
type UntunedScore = { accuracy?: number; log_loss?: number; rmse?: number; mae?: number; n: number };

/**
 * Perennial minus the better tuned anchor on the holdout: accuracy points (positive: Perennial is
 * better), or for regression the relative RMSE difference (positive: Perennial's error is larger).
 */
function minusBestTuned(holdout: number, tuned: TunedTask) {
  const scores = ANCHORS.map((a) => tuned[a].holdout);
  return tuned.metric === 'rmse' ? (holdout - Math.min(...scores)) / Math.min(...scores) : 100 * (holdout - Math.max(...scores));
}

export async function quality(h: Harness, stack: LocalStack) {
  const dir = join(PROJECT_ROOT, '.data', 'bench-automl');
  mkdirSync(dir, { recursive: true });
  const [headline, ...others] = Object.keys(QUALITY_SPACES);
  const swept: { task: Task; bySpace: Record<string, Awaited<ReturnType<typeof sweepAndScore>>> }[] = [];
  const splitFiles: string[] = [];
  const foldsOf: Record<string, string[]> = {};
  for (const { task: makeTask, maxWallTime, folds = 1 } of QUALITY_TASKS) {
    const whole = makeTask();
    foldsOf[whole.name] = [];
    for (const task of crossFolds(whole, folds)) {
      console.log(`  ${task.name}: ${task.notes}`);
      const bySpace: (typeof swept)[number]['bySpace'] = {};
      for (const [space, families] of Object.entries(QUALITY_SPACES)) {
        console.log(`   space ${space} (${Object.keys(families).join(', ')})`);
        bySpace[space] = await sweepAndScore(h, stack, task, families, maxWallTime);
      }
      // Every space's sweep has the same seed, so the same split: the references read the headline's.
      splitFiles.push(writeSplit(dir, task, bySpace[headline]));
      swept.push({ task, bySpace });
      foldsOf[whole.name].push(task.name);
    }
  }

  console.log('  scikit-learn references, untuned (bench/automl/sklearn_reference.py) ...');
  const sklearn = runReference('sklearn_reference.py', splitFiles) as Record<string, Record<string, UntunedScore>>;
  console.log('  HistGradientBoosting and LightGBM tuned by Optuna TPE (bench/automl/tuned_reference.py) ...');
  const tunedAll = runReference('tuned_reference.py', splitFiles) as Record<string, TunedTask>;

  const scored = Object.fromEntries(
    swept.map(({ task, bySpace }) => {
      const p = bySpace[headline];
      const regression = isRegression(p.spec.label);
      const refs = Object.fromEntries(
        Object.entries(sklearn[task.name]).map(([model, s]) => [
          model,
          regression
            ? { rmse: s.rmse!, mae: s.mae!, perennialMinusReference: (p.holdout - s.rmse!) / s.rmse! }
            : { accuracy: s.accuracy!, logLoss: s.log_loss!, perennialMinusReference: p.holdout - s.accuracy! },
        ]),
      );
      const tuned = tunedAll[task.name];
      const best = ANCHORS.reduce((a, b) =>
        (tuned.metric === 'rmse' ? tuned[b].holdout < tuned[a].holdout : tuned[b].holdout > tuned[a].holdout) ? b : a,
      );
      const otherSpaces = Object.fromEntries(
        others.map((s) => [s, { ...bySpace[s].perennial, minusBestTuned: minusBestTuned(bySpace[s].holdout, tuned) }]),
      );
      return [
        task.name,
        {
          perennial: { space: headline, ...p.perennial },
          otherSpaces,
          sklearn: refs,
          tuned: { ...tuned, best },
          perennialMinusBestTuned: minusBestTuned(p.holdout, tuned),
          perennialMinusBestTunedUnit: regression ? 'relative RMSE' : 'accuracy points',
        },
      ];
    }),
  );
  const tasks = Object.fromEntries(
    Object.entries(foldsOf).map(([name, folds]) => [name, folds.length === 1 ? scored[folds[0]] : pooled(folds.map((f) => scored[f]))]),
  );
  const settings = taskSpec(swept[0].task, sweepSettings(QUALITY_SPACES[headline], QUALITY_TASKS[0].maxWallTime)).training.sweep;
  const waves = Array.from({ length: Math.ceil(TRIALS / waveSize(settings)) }, (_, i) =>
    Math.min(waveSize(settings), TRIALS - i * waveSize(settings)),
  );
  return {
    split:
      'rows shuffled once (fixed seed), the last 20% holdout (75% for the synthetic task; penguins: 5 folds, each 20% held out once, every score pooled over them weighted by holdout rows); the rest split 80/20 train/validation by the sweep seed (activities/data.ts splitSnapshot); the best Perennial trial trained on train only (validation picked it); untuned sklearn fits train+validation; each tuned anchor trial trains on train, early-stopped on validation, and validation picks the best trial',
    sweep: `TPE seed ${SEED} (${TPE_STARTUP} random start-up trials), ${TRIALS} trials (waves of ${waves.join(' and ')}), ASHA rungs at ${rungs(settings).join('/')} epochs (gbdt: 10 boosting rounds each, the model at its best round on validation), parallelism 2, objective val_accuracy (val_rmse for regression), activities in-process; wall-time limit per task: ${QUALITY_TASKS.map((t) => t.maxWallTime).join(' / ')}`,
    spaces: Object.fromEntries(Object.entries(QUALITY_SPACES).map(([name, families]) => [name, Object.keys(families)])),
    tunedAnchors: `scikit-learn HistGradientBoosting and LightGBM (2 threads), each tuned by Optuna TPE (seed ${SEED}, ${TPE_STARTUP} start-up trials) with the sweep's trial count, wall-time limit and objective; up to 2000 boosting rounds, early stopping after 50 without improvement on validation`,
    // Relative to the project, so results carry no machine path.
    splitFiles: splitFiles.map((f) => relative(PROJECT_ROOT, f)),
    tasks,
  };
}

/**
 * The task as `folds` tasks that hold out each consecutive 1/folds of its rows in turn (moved to
 * the end, where splitSnapshot takes the holdout from); the task itself when folds is 1.
 */
function crossFolds(task: Task, folds: number): Task[] {
  if (folds === 1) return [task];
  const n = task.rows.length;
  return Array.from({ length: folds }, (_, f) => {
    const [start, end] = [Math.round((n * f) / folds), Math.round((n * (f + 1)) / folds)];
    return {
      ...task,
      name: `${task.name}-fold${f + 1}`,
      rows: [...task.rows.slice(end), ...task.rows.slice(0, start), ...task.rows.slice(start, end)],
      holdoutFraction: (end - start) / n,
      notes: `${task.notes}; fold ${f + 1} of ${folds}: rows ${start + 1}-${end} held out`,
    };
  });
}

/**
 * Counts and times add up over folds, as do held-out rows; scores (and their differences) are
 * means weighted by held-out rows; anything else (best configurations, training rows) is listed
 * per fold unless every fold has the same.
 */
const SUMMED = new Set(['trials', 'sweepMs', 'wallTimeS']);

function poolValues(values: unknown[], weights: number[], key: string, parent: string): unknown {
  const first = values[0];
  const perFold = () => (values.every((v) => JSON.stringify(v) === JSON.stringify(first)) ? first : values);
  if (key === 'best' || (parent === 'rows' && key !== 'holdout')) return perFold();
  if (typeof first === 'number') {
    const numbers = values as number[];
    if (SUMMED.has(key) || parent === 'rows') return numbers.reduce((a, b) => a + b, 0);
    const total = weights.reduce((a, b) => a + b, 0);
    return numbers.reduce((sum, v, i) => sum + v * weights[i], 0) / total;
  }
  if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
    return Object.fromEntries(
      Object.keys(first).map((k) => [
        k,
        poolValues(
          values.map((v) => (v as Record<string, unknown>)[k]),
          weights,
          k,
          key,
        ),
      ]),
    );
  }
  return perFold();
}

/** One task's entry from its folds' entries: every row held out once, scores pooled, the folds kept beside. */
type Pooled = {
  perennial: { holdoutAccuracy?: number; rows: { holdout: number } };
  otherSpaces: Record<string, { holdoutAccuracy?: number; minusBestTuned: number }>;
  tuned: TunedTask & { best: string };
  perennialMinusBestTuned: number;
};

/**
 * One task's entry from its folds' entries: every row held out once, scores pooled, the folds
 * kept beside. The anchor to beat is the better one over all rows, not the better one per fold.
 */
function pooled<T extends Pooled>(folds: T[]): T {
  // A mean of per-fold RMSEs is not the pooled RMSE; only accuracy (and log loss) pool this way.
  if (folds[0].tuned.metric !== 'accuracy') throw new Error('quality: folds pool accuracy only, not rmse');
  const weights = folds.map((f) => f.perennial.rows.holdout);
  const all = poolValues(folds, weights, '', '') as T;
  all.tuned.best = ANCHORS.reduce((a, b) => (all.tuned[b].holdout > all.tuned[a].holdout ? b : a));
  all.perennialMinusBestTuned = minusBestTuned(all.perennial.holdoutAccuracy!, all.tuned);
  for (const space of Object.values(all.otherSpaces)) space.minusBestTuned = minusBestTuned(space.holdoutAccuracy!, all.tuned);
  return { ...all, folds };
}

type Quality = Awaited<ReturnType<typeof quality>>;

const pts = (d: number) => `${d >= 0 ? '+' : ''}${(100 * d).toFixed(1)} pt`;
const rel = (d: number) => `${d >= 0 ? '+' : ''}${(100 * d).toFixed(1)}% rmse`;

/** The section's lines of the benchmark summary. */
export function printQuality(q: Quality) {
  console.log(
    `quality        holdout accuracy [log loss] or rmse: perennial | linear model (diff) | hist gradient boosting (diff) | constant   (untuned references)`,
  );
  for (const [name, t] of Object.entries(q.tasks)) {
    const p = t.perennial;
    const s = t.sklearn as Record<string, { accuracy?: number; logLoss?: number; rmse?: number; perennialMinusReference: number }>;
    if ('holdoutRmse' in p) {
      const ref = (k: string) => `${s[k].rmse!.toFixed(4)} (${rel(s[k].perennialMinusReference)})`;
      console.log(
        `  ${name.padEnd(16)} ${p.holdoutRmse.toFixed(4)} | ${ref('linear_regression')} | ${ref('hist_gradient_boosting')} | ${ref('training_mean')}`,
      );
    } else {
      const ref = (k: string) => `${s[k].accuracy!.toFixed(4)} [${s[k].logLoss!.toFixed(3)}] (${pts(s[k].perennialMinusReference)})`;
      console.log(
        `  ${name.padEnd(16)} ${p.holdoutAccuracy.toFixed(4)} [${p.holdoutLogLoss.toFixed(3)}] | ${ref('logistic_regression')} | ${ref('hist_gradient_boosting')} | ${ref('majority_class')}`,
      );
    }
  }
  const spaces = Object.keys(q.spaces);
  console.log(
    `tuned          holdout accuracy or rmse (trials, wall time): ${spaces.map((s) => `perennial ${s}`).join(' | ')} | HGB + Optuna | LightGBM + Optuna | perennial ${spaces[0]} - best tuned   (target: -1 pt or better)`,
  );
  for (const [name, t] of Object.entries(q.tasks)) {
    const sweeps = [t.perennial, ...Object.values(t.otherSpaces)].map(
      (p) => `${('holdoutRmse' in p ? p.holdoutRmse : p.holdoutAccuracy).toFixed(4)} (${p.trials}, ${secs(p.sweepMs)})`,
    );
    const anchors = ANCHORS.map((a) => `${t.tuned[a].holdout.toFixed(4)} (${t.tuned[a].trials}, ${t.tuned[a].wallTimeS.toFixed(1)} s)`);
    const d = t.perennialMinusBestTuned;
    console.log(
      `  ${name.padEnd(16)} ${[...sweeps, ...anchors].join(' | ')} | ${t.tuned.metric === 'rmse' ? rel(d) : `${d >= 0 ? '+' : ''}${d.toFixed(1)} pt`}`,
    );
  }
}
