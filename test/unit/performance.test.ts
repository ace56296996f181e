import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classificationReport, logLoss } from '../../core/metrics/classification.ts';
import { DEFAULT_MIN_GROUP_SIZE, fairnessReport } from '../../core/metrics/fairness.ts';
import { resolveFeedback, type FeedbackItem } from '../../core/metrics/feedback.ts';
import { confidenceReport, predictionDrift } from '../../core/metrics/prediction-drift.ts';
import { regressionReport } from '../../core/metrics/regression.ts';
import { jensenShannonSmoothed as jensenShannonDistance } from '../../core/stats/jensen-shannon.ts';
import type { ReferenceProfile } from '../../core/profile.ts';

/*
 * Reference values: scikit-learn 1.9.1 / SciPy 1.17.1 / NumPy 2.4.6 in the project venv
 * (/work/main/.venv/bin/python), fairlearn's definitions computed with numpy (fairlearn is not
 * installed). Output lines "A {...}" etc. are pasted below.
 *
 *   import json, warnings
 *   import numpy as np
 *   from sklearn.metrics import (accuracy_score, confusion_matrix, f1_score, log_loss, mean_absolute_error,
 *                                mean_squared_error, precision_recall_fscore_support, r2_score)
 *   from scipy.spatial.distance import jensenshannon
 *   warnings.simplefilter("ignore")  # zero-division and "do not sum to one" warnings are part of the fixtures
 *
 *   def r(x): return [float(v) for v in x]
 *
 *   def classification(name, truth, pred, classes, proba=None):
 *       p, rc, f, s = precision_recall_fscore_support(truth, pred, labels=classes, zero_division="warn")
 *       out = dict(accuracy=float(accuracy_score(truth, pred)), precision=r(p), recall=r(rc), f1=r(f), support=[int(v) for v in s],
 *                  macroPrecision=float(np.mean(p)), macroRecall=float(np.mean(rc)),
 *                  macroF1=float(f1_score(truth, pred, labels=classes, average="macro")),
 *                  weightedF1=float(f1_score(truth, pred, labels=classes, average="weighted")),
 *                  confusion=confusion_matrix(truth, pred, labels=classes).tolist())
 *       if proba is not None:
 *           order = sorted(classes)  # log_loss assumes the columns in sorted label order
 *           y = np.array([[row.get(c, 0.0) for c in order] for row in proba])
 *           out["logLoss"] = float(log_loss(truth, y, labels=order))
 *           # scikit-learn < 1.5: clip to [1e-15, 1 - 1e-15], then renormalise each row
 *           yc = np.clip(y, 1e-15, 1 - 1e-15)
 *           yc = yc / yc.sum(axis=1)[:, None]
 *           onehot = np.array([[t == c for c in order] for t in truth], dtype=float)
 *           out["logLossLegacy"] = float(np.mean(-(onehot * np.log(yc)).sum(axis=1)))
 *       print(name, json.dumps(out))
 *
 *   # A: imbalanced; 'bird' is never predicted, 'fish' never true; some rows do not sum to 1
 *   A_truth = ["cat"] * 12 + ["dog"] * 5 + ["bird"] * 3
 *   A_pred = ["cat", "cat", "cat", "cat", "cat", "cat", "cat", "cat", "dog", "cat", "fish", "cat",
 *             "dog", "dog", "cat", "dog", "fish",
 *             "cat", "dog", "cat"]
 *   A_proba = [
 *       {"cat": 0.7, "dog": 0.2, "bird": 0.05, "fish": 0.05}, {"cat": 0.9, "dog": 0.05, "bird": 0.05, "fish": 0.0},
 *       {"cat": 0.6, "dog": 0.3, "bird": 0.1, "fish": 0.0}, {"cat": 0.8, "dog": 0.1, "bird": 0.1, "fish": 0.0},
 *       {"cat": 0.55, "dog": 0.25, "bird": 0.15, "fish": 0.05}, {"cat": 0.95, "dog": 0.03, "bird": 0.01, "fish": 0.01},
 *       {"cat": 0.5, "dog": 0.2, "bird": 0.2, "fish": 0.1}, {"cat": 0.65, "dog": 0.2, "bird": 0.1, "fish": 0.05},
 *       {"cat": 0.3, "dog": 0.6, "bird": 0.05, "fish": 0.05}, {"cat": 0.7, "dog": 0.1, "bird": 0.1, "fish": 0.1},
 *       {"cat": 0.2, "dog": 0.1, "bird": 0.1, "fish": 0.6}, {"cat": 1.0, "dog": 0.0, "bird": 0.0, "fish": 0.0},
 *       {"cat": 0.1, "dog": 0.8, "bird": 0.05, "fish": 0.05}, {"cat": 0.2, "dog": 0.7, "bird": 0.1},
 *       {"cat": 0.6, "dog": 0.35, "bird": 0.05, "fish": 0.0}, {"cat": 0.25, "dog": 0.45, "bird": 0.2, "fish": 0.1},
 *       {"cat": 0.1, "dog": 0.2, "bird": 0.1, "fish": 0.6},
 *       {"cat": 0.5, "dog": 0.1, "bird": 0.0, "fish": 0.1},  # sums to 0.7, p(true) = 0
 *       {"cat": 0.3, "dog": 0.6, "bird": 0.3, "fish": 0.1},  # sums to 1.3
 *       {"cat": 0.45, "dog": 0.3, "bird": 0.2, "fish": 0.04},  # sums to 0.99
 *   ]
 *   classification("A", A_truth, A_pred, ["cat", "dog", "bird", "fish"], A_proba)
 *   # B: scikit-learn's log_loss doc example
 *   classification("B", ["spam", "ham", "ham", "spam"], ["ham", "ham", "ham", "spam"], ["ham", "spam"],
 *                  [{"ham": .1, "spam": .9}, {"ham": .9, "spam": .1}, {"ham": .8, "spam": .2}, {"ham": .35, "spam": .65}])
 *   # C: a true label outside `classes` (counts against accuracy and as a false positive of the predicted class)
 *   classification("C", ["a", "b", "z", "a", "b", "z"], ["a", "a", "b", "a", "b", "a"], ["a", "b"])
 *   # D: a class neither true nor predicted
 *   classification("D", ["x", "x", "y", "y", "y"], ["x", "y", "y", "y", "x"], ["x", "y", "w"])
 *
 *   def regression(name, t, p):
 *       t, p = np.array(t, float), np.array(p, float)
 *       print(name, json.dumps(dict(mae=float(mean_absolute_error(t, p)), rmse=float(np.sqrt(mean_squared_error(t, p))),
 *                                  meanError=float(np.mean(p - t)), r2=float(r2_score(t, p)))))
 *   regression("R1", [3.0, -0.5, 2.0, 7.0, 4.2, 1.1, 0.0, 5.5], [2.5, 0.0, 2.0, 8.0, 3.9, 1.6, -0.3, 5.0])
 *   regression("R2", [2.0, 2.0, 2.0], [2.0, 2.0, 2.0])
 *   regression("R3", [2.0, 2.0, 2.0], [1.0, 2.0, 3.5])
 *   regression("R4", [1.0, 2.0, 3.0], [3.0, 2.0, 1.0])
 *
 *   # prediction drift: window shares vs training class shares, zero shares -> 1e-4, scipy normalises
 *   def drift(name, pred, counts, classes):
 *       n = len(pred); total = sum(counts.values())
 *       cur = np.array([pred.count(c) / n for c in classes]); ref = np.array([counts.get(c, 0) / total for c in classes])
 *       print(name, json.dumps(dict(current=r(cur), reference=r(ref), linf=float(np.max(np.abs(cur - ref))),
 *             js=float(jensenshannon(np.where(cur > 0, cur, 1e-4), np.where(ref > 0, ref, 1e-4))))))
 *   drift("P1", ["a"] * 6 + ["b"] * 3 + ["c"], {"a": 50, "b": 30, "c": 20}, ["a", "b", "c"])
 *   drift("P2", ["a"] * 7 + ["new"] * 3, {"a": 50, "b": 30, "c": 20}, ["a", "b", "c", "new"])
 *   drift("P3", ["a", "b", "c", "a", "b", "c"], {"a": 10, "b": 10, "c": 10}, ["a", "b", "c"])
 *
 *   # fairness: the same integer recipe as the TS test
 *   idx = np.arange(85)
 *   group = np.where(idx < 40, "A", np.where(idx < 75, "B", "C"))
 *   truth = np.where((idx * 7) % 3 == 0, "yes", "no")
 *   pred = np.where(((idx * 5) % 4 == 0) | ((idx >= 40) & (idx % 3 == 0)), "yes", "no")
 *   out = {}
 *   for g in ["A", "B", "C"]:
 *       m = group == g
 *       out[g] = dict(n=int(m.sum()), accuracy=float(np.mean(truth[m] == pred[m])), positiveRate=float(np.mean(pred[m] == "yes")))
 *   big = [g for g in out if out[g]["n"] >= 30]
 *   out["accuracyGap"] = max(out[g]["accuracy"] for g in big) - min(out[g]["accuracy"] for g in big)
 *   out["dpd"] = max(out[g]["positiveRate"] for g in big) - min(out[g]["positiveRate"] for g in big)
 *   print("F", json.dumps(out))
 */

function assertClose(actual: number, expected: number, what: string, rtol = 1e-12): void {
  const err = Math.abs(actual - expected);
  assert.ok(err <= rtol * Math.abs(expected) || err <= 1e-15, `${what}: got ${actual}, expected ${expected}`);
}

function assertAllClose(actual: readonly number[], expected: readonly number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  actual.forEach((v, i) => assertClose(v, expected[i], `${what}[${i}]`));
}

interface ClassificationExpected {
  accuracy: number;
  precision: number[];
  recall: number[];
  f1: number[];
  support: number[];
  macroPrecision: number;
  macroRecall: number;
  macroF1: number;
  weightedF1: number;
  confusion: number[][];
  logLoss?: number;
  logLossLegacy?: number;
}

function checkClassification(
  truth: string[],
  predicted: string[],
  classes: string[],
  expected: ClassificationExpected,
  probabilities?: Array<Record<string, number>>,
): void {
  const r = classificationReport({ truth, predicted, classes, probabilities });
  assertClose(r.accuracy, expected.accuracy, 'accuracy');
  assert.deepEqual(r.classes, classes);
  assertAllClose(
    classes.map((c) => r.perClass[c].precision),
    expected.precision,
    'precision',
  );
  assertAllClose(
    classes.map((c) => r.perClass[c].recall),
    expected.recall,
    'recall',
  );
  assertAllClose(
    classes.map((c) => r.perClass[c].f1),
    expected.f1,
    'f1',
  );
  assert.deepEqual(
    classes.map((c) => r.perClass[c].support),
    expected.support,
  );
  assertClose(r.macro.precision, expected.macroPrecision, 'macro precision');
  assertClose(r.macro.recall, expected.macroRecall, 'macro recall');
  assertClose(r.macro.f1, expected.macroF1, 'macro f1');
  assertClose(r.weightedF1, expected.weightedF1, 'weighted f1');
  assert.deepEqual(r.confusion, expected.confusion);
  if (expected.logLoss !== undefined) {
    assertClose(r.logLoss!, expected.logLoss, 'log loss');
    const legacy = classificationReport({ truth, predicted, classes, probabilities, logLoss: { eps: 1e-15, renormalize: true } });
    assertClose(legacy.logLoss!, expected.logLossLegacy!, 'legacy log loss');
  } else {
    assert.equal(r.logLoss, undefined);
  }
}

const A_TRUTH = [...Array(12).fill('cat'), ...Array(5).fill('dog'), ...Array(3).fill('bird')] as string[];
const A_PRED = [
  'cat',
  'cat',
  'cat',
  'cat',
  'cat',
  'cat',
  'cat',
  'cat',
  'dog',
  'cat',
  'fish',
  'cat',
  'dog',
  'dog',
  'cat',
  'dog',
  'fish',
  'cat',
  'dog',
  'cat',
];
const A_PROBA: Array<Record<string, number>> = [
  { cat: 0.7, dog: 0.2, bird: 0.05, fish: 0.05 },
  { cat: 0.9, dog: 0.05, bird: 0.05, fish: 0.0 },
  { cat: 0.6, dog: 0.3, bird: 0.1, fish: 0.0 },
  { cat: 0.8, dog: 0.1, bird: 0.1, fish: 0.0 },
  { cat: 0.55, dog: 0.25, bird: 0.15, fish: 0.05 },
  { cat: 0.95, dog: 0.03, bird: 0.01, fish: 0.01 },
  { cat: 0.5, dog: 0.2, bird: 0.2, fish: 0.1 },
  { cat: 0.65, dog: 0.2, bird: 0.1, fish: 0.05 },
  { cat: 0.3, dog: 0.6, bird: 0.05, fish: 0.05 },
  { cat: 0.7, dog: 0.1, bird: 0.1, fish: 0.1 },
  { cat: 0.2, dog: 0.1, bird: 0.1, fish: 0.6 },
  { cat: 1.0, dog: 0.0, bird: 0.0, fish: 0.0 },
  { cat: 0.1, dog: 0.8, bird: 0.05, fish: 0.05 },
  { cat: 0.2, dog: 0.7, bird: 0.1 },
  { cat: 0.6, dog: 0.35, bird: 0.05, fish: 0.0 },
  { cat: 0.25, dog: 0.45, bird: 0.2, fish: 0.1 },
  { cat: 0.1, dog: 0.2, bird: 0.1, fish: 0.6 },
  { cat: 0.5, dog: 0.1, bird: 0.0, fish: 0.1 }, // sums to 0.7, p(true) = 0
  { cat: 0.3, dog: 0.6, bird: 0.3, fish: 0.1 }, // sums to 1.3
  { cat: 0.45, dog: 0.3, bird: 0.2, fish: 0.04 }, // sums to 0.99
];

describe('classificationReport matches scikit-learn', () => {
  it('A: imbalanced classes, a class never predicted, a class absent from the truth, rows not summing to 1', () => {
    checkClassification(
      A_TRUTH,
      A_PRED,
      ['cat', 'dog', 'bird', 'fish'],
      {
        accuracy: 0.65,
        precision: [0.7692307692307693, 0.6, 0.0, 0.0],
        recall: [0.8333333333333334, 0.6, 0.0, 0.0],
        f1: [0.8, 0.6, 0.0, 0.0],
        support: [12, 5, 3, 0],
        macroPrecision: 0.3423076923076923,
        macroRecall: 0.35833333333333334,
        macroF1: 0.35,
        weightedF1: 0.6300000000000001,
        confusion: [
          [10, 1, 0, 1],
          [1, 3, 0, 1],
          [2, 1, 0, 0],
          [0, 0, 0, 0],
        ],
        logLoss: 2.4516900510725894,
        logLossLegacy: 2.371228150596029,
      },
      A_PROBA,
    );
  });

  it('A: the log loss does not depend on the order of `classes`', () => {
    const r = classificationReport({ truth: A_TRUTH, predicted: A_PRED, classes: ['fish', 'bird', 'dog', 'cat'], probabilities: A_PROBA });
    assertClose(r.logLoss!, 2.4516900510725894, 'log loss');
    assert.deepEqual(r.confusion[3], [1, 0, 1, 10]); // truth cat, predicted fish/bird/dog/cat
  });

  it("B: scikit-learn's log_loss documentation example (0.21616...)", () => {
    checkClassification(
      ['spam', 'ham', 'ham', 'spam'],
      ['ham', 'ham', 'ham', 'spam'],
      ['ham', 'spam'],
      {
        accuracy: 0.75,
        precision: [0.6666666666666666, 1.0],
        recall: [1.0, 0.5],
        f1: [0.8, 0.6666666666666666],
        support: [2, 2],
        macroPrecision: 0.8333333333333333,
        macroRecall: 0.75,
        macroF1: 0.7333333333333334,
        weightedF1: 0.7333333333333334,
        confusion: [
          [2, 0],
          [1, 1],
        ],
        logLoss: 0.21616187468057912,
        logLossLegacy: 0.21616187468057912,
      },
      [
        { ham: 0.1, spam: 0.9 },
        { ham: 0.9, spam: 0.1 },
        { ham: 0.8, spam: 0.2 },
        { ham: 0.35, spam: 0.65 },
      ],
    );
  });

  it('C: true labels outside `classes` count against accuracy and as false positives, not in the matrix', () => {
    const truth = ['a', 'b', 'z', 'a', 'b', 'z'];
    const predicted = ['a', 'a', 'b', 'a', 'b', 'a'];
    checkClassification(truth, predicted, ['a', 'b'], {
      accuracy: 0.5,
      precision: [0.5, 0.5],
      recall: [1.0, 0.5],
      f1: [0.6666666666666666, 0.5],
      support: [2, 2],
      macroPrecision: 0.5,
      macroRecall: 0.75,
      macroF1: 0.5833333333333333,
      weightedF1: 0.5833333333333333,
      confusion: [
        [2, 0],
        [1, 1],
      ],
    });
    assert.equal(classificationReport({ truth, predicted, classes: ['a', 'b'] }).outsideClasses, 2);
  });

  it('D: a class neither true nor predicted scores 0 everywhere and still weighs on the macro means', () => {
    checkClassification(['x', 'x', 'y', 'y', 'y'], ['x', 'y', 'y', 'y', 'x'], ['x', 'y', 'w'], {
      accuracy: 0.6,
      precision: [0.5, 0.6666666666666666, 0.0],
      recall: [0.5, 0.6666666666666666, 0.0],
      f1: [0.5, 0.6666666666666666, 0.0],
      support: [2, 3, 0],
      macroPrecision: 0.38888888888888884,
      macroRecall: 0.38888888888888884,
      macroF1: 0.38888888888888884,
      weightedF1: 0.6,
      confusion: [
        [1, 1, 0],
        [1, 2, 0],
        [0, 0, 0],
      ],
    });
  });

  it('no true label among the classes: weighted F1 is 0, as in scikit-learn', () => {
    const r = classificationReport({ truth: ['z', 'z'], predicted: ['a', 'a'], classes: ['a', 'b'] });
    assert.equal(r.weightedF1, 0);
    assert.equal(r.perClass.a.predicted, 2);
    assert.equal(r.outsideClasses, 2);
  });

  it('empty input: NaN accuracy and log loss, zero counts', () => {
    const r = classificationReport({ truth: [], predicted: [], classes: ['a', 'b'], probabilities: [] });
    assert.equal(r.n, 0);
    assert.ok(Number.isNaN(r.accuracy));
    assert.ok(Number.isNaN(r.logLoss!));
    assert.deepEqual(r.confusion, [
      [0, 0],
      [0, 0],
    ]);
  });

  it('rejects bad input', () => {
    assert.throws(() => classificationReport({ truth: ['a'], predicted: [], classes: ['a'] }), RangeError);
    assert.throws(() => classificationReport({ truth: [], predicted: [], classes: [] }), RangeError);
    assert.throws(() => classificationReport({ truth: [], predicted: [], classes: ['a', 'a'] }), RangeError);
    assert.throws(() => logLoss(['a'], [{ a: 1.2, b: 0 }], ['a', 'b']), /not a number in \[0, 1\]/);
    assert.throws(() => logLoss(['a'], [{ a: -0.1, b: 0 }], ['a', 'b']), RangeError);
    assert.throws(() => logLoss(['a'], [{ a: NaN, b: 0 }], ['a', 'b']), RangeError);
    assert.throws(() => logLoss(['a', 'b'], [{ a: 1 }], ['a', 'b']), RangeError);
  });

  it('log loss: clipping at machine epsilon, a true label outside the classes scores eps', () => {
    // p(true) = 0 is clipped to 2^-52: -ln(2^-52) = 52 ln 2
    assertClose(logLoss(['a'], [{ a: 0, b: 1 }], ['a', 'b']), 52 * Math.LN2, 'clipped');
    assertClose(logLoss(['a'], [{ a: 0, b: 1 }], ['a', 'b'], { eps: 1e-15 }), -Math.log(1e-15), 'eps 1e-15');
    assertClose(
      logLoss(
        ['z', 'a'],
        [
          { a: 0.5, b: 0.5 },
          { a: 1, b: 0 },
        ],
        ['a', 'b'],
      ),
      (52 * Math.LN2 - Math.log(1 - Number.EPSILON)) / 2,
      'unknown truth',
    );
  });
});

describe('regressionReport matches scikit-learn', () => {
  const cases = [
    {
      name: 'R1',
      truth: [3.0, -0.5, 2.0, 7.0, 4.2, 1.1, 0.0, 5.5],
      predicted: [2.5, 0.0, 2.0, 8.0, 3.9, 1.6, -0.3, 5.0],
      mae: 0.45000000000000007,
      rmse: 0.5220153254455275,
      meanError: 0.04999999999999996,
      r2: 0.9556809229752738,
    },
    { name: 'R2: constant truth, perfect prediction', truth: [2, 2, 2], predicted: [2, 2, 2], mae: 0, rmse: 0, meanError: 0, r2: 1 },
    {
      name: 'R3: constant truth, imperfect prediction',
      truth: [2, 2, 2],
      predicted: [1.0, 2.0, 3.5],
      mae: 0.8333333333333334,
      rmse: 1.0408329997330663,
      meanError: 0.16666666666666666,
      r2: 0,
    },
    {
      name: 'R4: worse than the mean',
      truth: [1, 2, 3],
      predicted: [3, 2, 1],
      mae: 1.3333333333333333,
      rmse: 1.632993161855452,
      meanError: 0,
      r2: -3,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = regressionReport(c);
      assert.equal(r.n, c.truth.length);
      assertClose(r.mae, c.mae, 'mae');
      assertClose(r.rmse, c.rmse, 'rmse');
      assertClose(r.meanError, c.meanError, 'mean error');
      assertClose(r.r2, c.r2, 'r2');
    });
  }

  it('one row: R2 is NaN (scikit-learn warns and returns nan); empty: all NaN', () => {
    assert.ok(Number.isNaN(regressionReport({ truth: [1], predicted: [2] }).r2));
    assert.equal(regressionReport({ truth: [1], predicted: [2] }).mae, 1);
    const empty = regressionReport({ truth: [], predicted: [] });
    assert.ok([empty.mae, empty.rmse, empty.meanError, empty.r2].every(Number.isNaN));
  });

  it('rejects different lengths and non-finite values', () => {
    assert.throws(() => regressionReport({ truth: [1, 2], predicted: [1] }), RangeError);
    assert.throws(() => regressionReport({ truth: [1, NaN], predicted: [1, 2] }), /truth\[1\]/);
    assert.throws(() => regressionReport({ truth: [1, 2], predicted: [1, Infinity] }), /predicted\[1\]/);
  });
});

describe('predictionDrift', () => {
  const profile: Pick<ReferenceProfile, 'classCounts'> = { classCounts: { a: 50, b: 30, c: 20 } };

  it('P1: shifted shares (scipy jensenshannon)', () => {
    const d = predictionDrift({ predicted: [...Array(6).fill('a'), 'b', 'b', 'b', 'c'], classCounts: profile.classCounts });
    assert.deepEqual(d.classes, ['a', 'b', 'c']);
    assert.equal(d.n, 10);
    assert.equal(d.referenceRows, 100);
    assertAllClose(Object.values(d.current), [0.6, 0.3, 0.1], 'current');
    assertAllClose(Object.values(d.reference), [0.5, 0.3, 0.2], 'reference');
    assertClose(d.linf, 0.1, 'linf');
    assertClose(d.jensenShannon, 0.10378256108603967, 'js');
  });

  it('P2: classes never predicted and a prediction unknown to training (zero shares -> 1e-4)', () => {
    const d = predictionDrift({ predicted: [...Array(7).fill('a'), 'new', 'new', 'new'], classCounts: profile.classCounts });
    assert.deepEqual(d.classes, ['a', 'b', 'c', 'new']);
    assert.deepEqual(d.current, { a: 0.7, b: 0, c: 0, new: 0.3 });
    assert.deepEqual(d.reference, { a: 0.5, b: 0.3, c: 0.2, new: 0 });
    assertClose(d.linf, 0.3, 'linf');
    assertClose(d.jensenShannon, 0.5332544734601957, 'js');
  });

  it('P3: identical distributions give 0; explicit classes set the order', () => {
    const d = predictionDrift({
      predicted: ['a', 'b', 'c', 'a', 'b', 'c'],
      classCounts: { a: 10, b: 10, c: 10 },
      classes: ['c', 'b', 'a'],
    });
    assert.deepEqual(d.classes, ['c', 'b', 'a']);
    assert.equal(d.linf, 0);
    assert.equal(d.jensenShannon, 0);
  });

  it('an empty window has NaN shares and distances', () => {
    const d = predictionDrift({ predicted: [], classCounts: profile.classCounts });
    assert.equal(d.n, 0);
    assert.ok(Number.isNaN(d.current.a) && Number.isNaN(d.linf) && Number.isNaN(d.jensenShannon));
  });

  it('jensenShannonDistance is symmetric and at most sqrt(ln 2)', () => {
    const p = [0.9, 0.1, 0];
    const q = [0, 0.2, 0.8];
    assertClose(jensenShannonDistance(p, q), jensenShannonDistance(q, p), 'symmetry');
    assert.ok(jensenShannonDistance([1, 0], [0, 1]) <= Math.sqrt(Math.LN2));
  });
});

describe('confidenceReport', () => {
  it('mean top probability and the share strictly below the threshold', () => {
    const r = confidenceReport(
      [
        { a: 0.9, b: 0.1 },
        { a: 0.4, b: 0.35, c: 0.25 },
        { a: 0.5, b: 0.5 },
        { a: 0.2, b: 0.8 },
      ],
      0.5,
    );
    assert.equal(r.n, 4);
    assertClose(r.meanMaxProbability, (0.9 + 0.4 + 0.5 + 0.8) / 4, 'mean max');
    assert.equal(r.lowConfidenceShare, 0.25); // only 0.4 < 0.5; 0.5 is not below
  });

  it('empty window: NaN; a row without probabilities counts as 0', () => {
    const empty = confidenceReport([], 0.6);
    assert.ok(Number.isNaN(empty.meanMaxProbability) && Number.isNaN(empty.lowConfidenceShare));
    const r = confidenceReport([{}, { a: 1 }], 0.6);
    assert.equal(r.meanMaxProbability, 0.5);
    assert.equal(r.lowConfidenceShare, 0.5);
  });
});

describe('resolveFeedback', () => {
  const items: FeedbackItem[] = [
    { predicted: 'cat', feedback: { kind: 'accepted' } },
    { predicted: 'cat', feedback: { kind: 'label', label: 'dog' } },
    { predicted: 'dog', feedback: { kind: 'overridden' } },
    { predicted: 'dog', feedback: { kind: 'overridden', label: 'bird' } },
    { predicted: 'bird', feedback: { kind: 'label', label: 'bird' } },
    { predicted: 'cat', feedback: { kind: 'overridden', label: 'cat' } },
  ];

  it('explicit labels, accepts and overrides become truth / predicted / correct', () => {
    const r = resolveFeedback(items);
    assert.equal(r.n, 6);
    assert.deepEqual(r.correct, [true, false, false, false, true, true]);
    assert.equal(r.accuracy, 0.5);
    assert.deepEqual(r.truth, ['cat', 'dog', 'bird', 'bird', 'cat']);
    assert.deepEqual(r.predicted, ['cat', 'cat', 'dog', 'bird', 'cat']);
    assert.deepEqual(r.index, [0, 1, 3, 4, 5]);
    assert.equal(r.unknownTruth, 1);
  });

  it('an override without a label is wrong for accuracy but absent from per-class metrics', () => {
    const r = resolveFeedback(items);
    const report = classificationReport({ truth: r.truth, predicted: r.predicted, classes: ['cat', 'dog', 'bird'] });
    assert.equal(report.n, 5);
    assert.equal(report.accuracy, 0.6); // 3 of the 5 labelled, vs 3 of 6 overall
    assert.equal(report.perClass.dog.predicted, 1); // of the two 'dog' predictions, the unlabelled override is left out
  });

  it('empty feedback', () => {
    const r = resolveFeedback([]);
    assert.ok(Number.isNaN(r.accuracy));
    assert.deepEqual([r.correct, r.truth, r.index], [[], [], []]);
  });
});

describe('fairnessReport', () => {
  // The integer recipe of script block "F": 85 rows in groups A (40), B (35) and C (10).
  const idx = Array.from({ length: 85 }, (_, i) => i);
  const groups = idx.map((i) => (i < 40 ? 'A' : i < 75 ? 'B' : 'C'));
  const truth = idx.map((i) => ((i * 7) % 3 === 0 ? 'yes' : 'no'));
  const predicted = idx.map((i) => ((i * 5) % 4 === 0 || (i >= 40 && i % 3 === 0) ? 'yes' : 'no'));

  it('per-group accuracy and positive rate; gaps over groups of at least 30 rows (fairlearn between_groups)', () => {
    const r = fairnessReport({ groups, truth, predicted, positiveClass: 'yes' });
    assert.equal(r.minGroupSize, DEFAULT_MIN_GROUP_SIZE);
    assert.deepEqual(Object.keys(r.groups), ['A', 'B', 'C']);
    assert.deepEqual(r.compared, ['A', 'B']);
    assert.deepEqual([r.groups.A.n, r.groups.B.n, r.groups.C.n], [40, 35, 10]);
    assertClose(r.groups.A.accuracy, 0.6, 'A accuracy');
    assertClose(r.groups.B.accuracy, 0.8285714285714286, 'B accuracy');
    assertClose(r.groups.C.accuracy, 0.8, 'C accuracy');
    assertClose(r.groups.A.positiveRate!, 0.25, 'A positive rate');
    assertClose(r.groups.B.positiveRate!, 0.4857142857142857, 'B positive rate');
    assertClose(r.groups.C.positiveRate!, 0.6, 'C positive rate');
    assert.equal(r.groups.C.compared, false);
    assertClose(r.accuracyGap, 0.22857142857142865, 'accuracy gap');
    assertClose(r.demographicParityDifference!, 0.2357142857142857, 'demographic parity difference');
  });

  it('minGroupSize 1 compares every group; without positiveClass there is no parity difference', () => {
    const all = fairnessReport({ groups, truth, predicted, positiveClass: 'yes', minGroupSize: 1 });
    assertClose(all.demographicParityDifference!, 0.6 - 0.25, 'dpd over all groups');
    const noPositive = fairnessReport({ groups, truth, predicted });
    assert.equal(noPositive.demographicParityDifference, undefined);
    assert.equal(noPositive.groups.A.positiveRate, undefined);
  });

  it('fewer than two groups large enough: gaps are NaN', () => {
    const r = fairnessReport({ groups, truth, predicted, positiveClass: 'yes', minGroupSize: 36 });
    assert.deepEqual(r.compared, ['A']);
    assert.ok(Number.isNaN(r.accuracyGap) && Number.isNaN(r.demographicParityDifference!));
    assert.throws(() => fairnessReport({ groups: ['A'], truth: [], predicted: [] }), RangeError);
  });
});
