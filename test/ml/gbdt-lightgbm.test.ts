import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { mulberry32 } from '../../core/stats/rng.ts';
import {
  boost,
  GBDT_DEFAULTS,
  gainImportance,
  predictOutput,
  predictRaw,
  startBooster,
  type GbdtParams,
  type TrainingSet,
} from '../../ml/gbdt/booster.ts';
import { PROJECT_ROOT, VENV_BIN } from '../../stack/services.ts';
import { tempDir } from '../helpers/services.ts';

/*
 * ml/gbdt/ against LightGBM 4.7.0 (.venv) trained with the same settings on the same rows
 * (test/ml/gbdt_reference.py: min_data_in_bin=1, feature_pre_filter=False, 2 threads,
 * deterministic, column-wise), compared on held-out rows: raw scores and gain importance.
 *
 * Why the scores agree to rounding: the bins are LightGBM's by construction (bins.ts follows its
 * FindBin), gradients are float32 like LightGBM's, and the split rules are its own. What is left
 * is summation order in the histograms (double), ~1e-15 relative. Regression targets are made
 * float32-representable because LightGBM stores labels as float32 (with float64 targets the
 * scores differ by ~2e-8). Gain importance: LightGBM stores each split's gain as float32, hence
 * the 1e-5 relative bound.
 *
 * Max |ours - LightGBM| over held-out raw scores (scores up to ~4) when this was written:
 * regression 0, many distinct values (quantile bins) 0, binary 1.8e-15, multiclass 8.9e-16,
 * depth-wise 0, L1+L2+minData 8.9e-16, NaN 0. The bound is 1e-12 relative to the largest score.
 *
 * Not matched exactly, by design: bagging and feature fraction draw from our own generator; the
 * bagged model is compared on held-out log loss and accuracy instead. Known gap: with NaN in a
 * classification problem, a node whose rows have no NaN in the split column sends NaN wherever
 * rounding noise favours in LightGBM (its two scans tie), so held-out NaN rows can differ.
 */

const N_TRAIN = 2000;
const N_TEST = 500;
const N_COLUMNS = 6;
const ROUNDS = 30;
const RELATIVE_TOLERANCE = 1e-12;
const IMPORTANCE_TOLERANCE = 1e-5;

interface Shape {
  nClasses: number;
  /** Values on a grid of 1/grid (few distinct values: one bin each); otherwise continuous. */
  grid?: number;
  nanColumns?: number[];
  nTrain?: number;
  nTest?: number;
}

/** Rows with signal in columns 0-2 (a sine, a square, a line) and noise in the rest. */
function dataset(shape: Shape, seed: number) {
  const { nClasses, grid, nanColumns = [] } = shape;
  const n = (shape.nTrain ?? N_TRAIN) + (shape.nTest ?? N_TEST);
  const random = mulberry32(seed);
  const x = new Float32Array(n * N_COLUMNS);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = i * N_COLUMNS;
    for (let c = 0; c < N_COLUMNS; c++) {
      const v = random() * 4 - 2;
      x[row + c] = grid ? Math.round(v * grid) / grid : v;
    }
    const s = Math.sin(1.5 * x[row]) + 0.5 * x[row + 1] ** 2 - x[row + 2] + 0.3 * (random() - 0.5);
    if (nClasses === 0) y[i] = Math.fround(s);
    else if (nClasses === 2) y[i] = s + 0.3 * (random() - 0.5) > 0.2 ? 1 : 0;
    else y[i] = Math.min(nClasses - 1, Math.max(0, Math.floor(s + 1.2)));
    for (const c of nanColumns) if (random() < 0.2) x[row + c] = NaN;
  }
  const nTrain = shape.nTrain ?? N_TRAIN;
  const train: TrainingSet = {
    x: x.slice(0, nTrain * N_COLUMNS),
    nRows: nTrain,
    nColumns: N_COLUMNS,
    target: y.slice(0, nTrain),
    nClasses,
  };
  return { train, xTest: x.slice(nTrain * N_COLUMNS), yTest: y.slice(nTrain), nTest: n - nTrain };
}

interface Case {
  name: string;
  shape: Shape;
  params: Partial<GbdtParams>;
  rounds?: number;
}

const EXACT: Case[] = [
  { name: 'regression, leaf-wise', shape: { nClasses: 0, grid: 20 }, params: {} },
  { name: 'regression, many distinct values (quantile bins)', shape: { nClasses: 0 }, params: { maxBins: 63 } },
  { name: 'binary', shape: { nClasses: 2, grid: 20 }, params: {} },
  { name: 'multiclass, 3 classes', shape: { nClasses: 3, grid: 20 }, params: { numLeaves: 15 } },
  {
    name: 'depth-wise (LightGBM: max_depth 4, num_leaves 16)',
    shape: { nClasses: 0, grid: 20 },
    params: { growth: 'depthwise', maxDepth: 4, numLeaves: 16 },
  },
  {
    name: 'L1 + L2 + minDataInLeaf + minGainToSplit',
    shape: { nClasses: 2, grid: 20 },
    params: { lambdaL1: 0.5, lambdaL2: 2, minDataInLeaf: 40, minGainToSplit: 0.01, minSumHessianInLeaf: 0.5 },
  },
  { name: 'missing values (NaN in columns 0 and 3)', shape: { nClasses: 0, grid: 20, nanColumns: [0, 3] }, params: { maxDepth: 6 } },
];
const BAGGED: Case = {
  name: 'bagging + feature fraction',
  shape: { nClasses: 2, nTrain: 4000, nTest: 2000 },
  params: { baggingFraction: 0.7, baggingFreq: 1, featureFraction: 0.7 },
  rounds: 60,
};

const readF64 = (path: string): Float64Array => new Float64Array(new Uint8Array(readFileSync(path)).buffer);

interface Outcome {
  data: ReturnType<typeof dataset>;
  params: GbdtParams;
  reference: Float64Array;
  referenceImportance: Float64Array;
  referenceTrees: number;
}

describe('gbdt against LightGBM 4.7', () => {
  const outcomes = new Map<string, Outcome>();

  before(() => {
    const root = tempDir('perennial-gbdt-lightgbm-');
    const cases = [...EXACT, BAGGED];
    const dirs = cases.map((c, i) => {
      const dir = join(root, String(i));
      execFileSync('mkdir', [dir]);
      const data = dataset(c.shape, 11 + i);
      const params = { ...GBDT_DEFAULTS, ...c.params };
      const config = {
        nRows: data.train.nRows,
        nColumns: N_COLUMNS,
        nTest: data.nTest,
        nClasses: c.shape.nClasses,
        rounds: c.rounds ?? ROUNDS,
        params,
      };
      writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
      writeFileSync(join(dir, 'x_train.f32'), data.train.x);
      writeFileSync(join(dir, 'y_train.f64'), data.train.target);
      writeFileSync(join(dir, 'x_test.f32'), data.xTest);
      outcomes.set(c.name, { data, params, reference: new Float64Array(), referenceImportance: new Float64Array(), referenceTrees: 0 });
      return dir;
    });
    // Passive OpenMP waiting: spinning threads crawl on a shared, loaded machine.
    const out = execFileSync(join(VENV_BIN, 'python'), ['test/ml/gbdt_reference.py', ...dirs], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, OMP_WAIT_POLICY: 'passive' },
    });
    const lines = out.toString().trim().split('\n');
    cases.forEach((c, i) => {
      const o = outcomes.get(c.name)!;
      o.reference = readF64(join(dirs[i], 'raw_test.f64'));
      o.referenceImportance = readF64(join(dirs[i], 'importance.f64'));
      o.referenceTrees = (JSON.parse(lines[i]) as { trees: number }).trees;
    });
  });

  for (const c of EXACT) {
    it(`${c.name}: the same held-out scores and gain importance`, () => {
      const { data, params, reference, referenceImportance, referenceTrees } = outcomes.get(c.name)!;
      const state = boost(startBooster(data.train, params, 1), data.train, ROUNDS);
      const ours = predictRaw(state.ensemble, data.xTest, data.nTest);
      assert.equal(ours.length, reference.length);
      let maxDiff = 0;
      let scale = 1;
      for (let i = 0; i < ours.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(ours[i] - reference[i]));
        scale = Math.max(scale, Math.abs(reference[i]));
      }
      console.log(`${c.name}: max |ours - LightGBM| = ${maxDiff.toExponential(2)} (scores up to ${scale.toFixed(2)})`);
      assert.ok(maxDiff <= RELATIVE_TOLERANCE * scale, `max difference ${maxDiff} over ${RELATIVE_TOLERANCE} x ${scale}`);
      // LightGBM keeps no tree for an output that learnt nothing; ours keeps a leaf of 0.
      const splitTrees = state.ensemble.trees.flat().filter((t) => t.feature[0] >= 0).length;
      assert.equal(splitTrees, referenceTrees);
      const importance = gainImportance(state.ensemble);
      for (let f = 0; f < N_COLUMNS; f++) {
        const tolerance = IMPORTANCE_TOLERANCE * Math.max(1, referenceImportance[f]);
        assert.ok(
          Math.abs(importance[f] - referenceImportance[f]) <= tolerance,
          `column ${f}: gain ${importance[f]} vs LightGBM ${referenceImportance[f]}`,
        );
      }
    });
  }

  it('bagging + feature fraction: held-out log loss and accuracy close to LightGBM with the same fractions', () => {
    const { data, params, reference } = outcomes.get(BAGGED.name)!;
    const bagged = boost(startBooster(data.train, params, 1), data.train, BAGGED.rounds!);
    const p = predictOutput(bagged.ensemble, data.xTest, data.nTest);
    const q = reference.map((s) => 1 / (1 + Math.exp(-s)));
    const score = (probs: Float64Array) => {
      let loss = 0;
      let correct = 0;
      probs.forEach((pi, i) => {
        const y = data.yTest[i];
        loss -= Math.log(y === 1 ? pi : 1 - pi);
        correct += (pi > 0.5 ? 1 : 0) === y ? 1 : 0;
      });
      return { logLoss: loss / probs.length, accuracy: correct / probs.length };
    };
    const ours = score(p);
    const theirs = score(q);
    console.log(`bagged: ours ${JSON.stringify(ours)}, LightGBM ${JSON.stringify(theirs)}`);
    assert.ok(Math.abs(ours.logLoss - theirs.logLoss) <= 0.05 * theirs.logLoss, 'log loss within 5%');
    assert.ok(Math.abs(ours.accuracy - theirs.accuracy) <= 0.02, 'accuracy within 2 points');
    // The bag and the columns really are drawn: without them the trees differ.
    const unbagged = boost(startBooster(data.train, { ...params, baggingFreq: 0, featureFraction: 1 }, 1), data.train, 1);
    assert.notDeepEqual(bagged.ensemble.trees[0][0].cover, unbagged.ensemble.trees[0][0].cover);
  });
});
