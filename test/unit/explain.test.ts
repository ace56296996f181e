/**
 * Explanations as pure computations: Tree SHAP against brute-force Shapley values of the same
 * (path-dependent) value function on random trees, local accuracy, sampled Shapley values
 * against brute-force interventional ones, permutation importance, and the per-feature sums.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { derive, type Rng } from '../../core/stats/rng.ts';
import { rawScores, type Tree, type TreeEnsemble } from '../../ml/gbdt/tree.ts';
import { coverFraction, expectedValues, treeShap } from '../../ml/explain/tree-shap.ts';
import { exactShapley, interventionalValue, sampledShapley } from '../../ml/explain/shapley.ts';
import { permutationImportance } from '../../ml/explain/permutation-importance.ts';
import { composeRows, featureGroups, groupingNote, sumByGroup } from '../../ml/explain/feature-groups.ts';
import { fitPreprocessor } from '../../ml/preprocess.ts';

/** A random tree over `columns` columns: splits on random columns (repeats along a path too), random NaN routing, covers that add up. */
function randomTree(rng: Rng, columns: number, maxDepth: number): Tree {
  const nodes: Array<{
    feature: number;
    threshold: number;
    missingLeft: number;
    left: number;
    right: number;
    value: number;
    cover: number;
  }> = [];
  const grow = (depth: number, cover: number): number => {
    const id = nodes.length;
    nodes.push({ feature: -1, threshold: 0, missingLeft: 0, left: -1, right: -1, value: 0, cover });
    if (depth < maxDepth && cover >= 2 && rng.uniform() < 0.85) {
      const leftCover = rng.int(1, cover - 1);
      nodes[id].feature = rng.int(0, columns - 1);
      nodes[id].threshold = rng.normal();
      nodes[id].missingLeft = rng.int(0, 1);
      nodes[id].left = grow(depth + 1, leftCover);
      nodes[id].right = grow(depth + 1, cover - leftCover);
    } else {
      nodes[id].value = rng.normal();
    }
    return id;
  };
  grow(0, rng.int(50, 500));
  return {
    feature: Int32Array.from(nodes, (n) => n.feature),
    threshold: Float64Array.from(nodes, (n) => n.threshold),
    missingLeft: Uint8Array.from(nodes, (n) => n.missingLeft),
    left: Int32Array.from(nodes, (n) => n.left),
    right: Int32Array.from(nodes, (n) => n.right),
    value: Float64Array.from(nodes, (n) => n.value),
    cover: Float64Array.from(nodes, (n) => n.cover),
    gain: new Float64Array(nodes.length),
  };
}

/** E[tree(x) | x_S]: follow x on columns in S, else average the children by cover. */
function pathDependentValue(tree: Tree, row: ArrayLike<number>, coalition: number, node = 0): number {
  const f = tree.feature[node];
  if (f < 0) return tree.value[node];
  const left = tree.left[node];
  const right = tree.right[node];
  if (coalition & (1 << f)) {
    const x = row[f];
    const goLeft = Number.isNaN(x) ? tree.missingLeft[node] === 1 : x <= tree.threshold[node];
    return pathDependentValue(tree, row, coalition, goLeft ? left : right);
  }
  return (
    coverFraction(tree, node, left) * pathDependentValue(tree, row, coalition, left) +
    coverFraction(tree, node, right) * pathDependentValue(tree, row, coalition, right)
  );
}

function randomRow(rng: Rng, columns: number): Float64Array {
  return Float64Array.from({ length: columns }, () => (rng.uniform() < 0.2 ? NaN : rng.normal()));
}

test('Tree SHAP equals brute-force Shapley values of the path-dependent value function', () => {
  let worst = 0;
  for (let t = 0; t < 60; t++) {
    const rng = derive(15, t);
    const columns = rng.int(4, 6);
    const outputs = rng.int(1, 3);
    const trees = Array.from({ length: outputs }, () =>
      Array.from({ length: rng.int(1, 4) }, () => randomTree(rng, columns, rng.int(1, 6))),
    );
    const ensemble: TreeEnsemble = {
      nOutputs: outputs,
      trees,
      base: Float64Array.from({ length: outputs }, () => rng.normal()),
      link: 'identity',
      nColumns: columns,
    };
    const row = randomRow(rng, columns);
    const shap = treeShap(ensemble, row);
    for (let k = 0; k < outputs; k++) {
      const value = (coalition: number) => trees[k].reduce((a, tree) => a + pathDependentValue(tree, row, coalition), ensemble.base[k]);
      const exact = exactShapley(columns, value);
      for (let c = 0; c < columns; c++) worst = Math.max(worst, Math.abs(shap.phi[k][c] - exact[c]));
      // v(empty) is the expected value, v(all) the raw score.
      assert.ok(Math.abs(shap.expected[k] - value(0)) < 1e-9);
    }
  }
  console.log(`Tree SHAP vs brute force on 60 random ensembles: largest difference ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-9, `largest difference from brute force ${worst}`);
});

test('Tree SHAP is locally accurate: expected + sum(phi) is the raw score, missing values included', () => {
  const rng = derive(16);
  const ensemble: TreeEnsemble = {
    nOutputs: 3,
    trees: Array.from({ length: 3 }, () => Array.from({ length: 50 }, () => randomTree(rng, 12, 8))),
    base: Float64Array.from([0.1, -0.2, 0.3]),
    link: 'softmax',
    nColumns: 12,
  };
  for (let i = 0; i < 20; i++) {
    const row = randomRow(rng, 12);
    const shap = treeShap(ensemble, row);
    const raw = rawScores(ensemble, row);
    for (let k = 0; k < 3; k++) {
      const total = shap.expected[k] + shap.phi[k].reduce((a, v) => a + v, 0);
      assert.ok(Math.abs(total - raw[k]) < 1e-9, `output ${k}: ${total} vs raw score ${raw[k]}`);
    }
  }
  assert.deepEqual(expectedValues(ensemble), treeShap(ensemble, randomRow(rng, 12)).expected);
});

test('Tree SHAP of a single leaf gives nothing to any column', () => {
  const leaf: Tree = {
    feature: Int32Array.of(-1),
    threshold: Float64Array.of(0),
    missingLeft: Uint8Array.of(0),
    left: Int32Array.of(-1),
    right: Int32Array.of(-1),
    value: Float64Array.of(2.5),
    cover: Float64Array.of(10),
    gain: Float64Array.of(0),
  };
  const shap = treeShap({ nOutputs: 1, trees: [[leaf]], base: Float64Array.of(1), link: 'identity', nColumns: 3 }, [1, 2, 3]);
  assert.deepEqual([...shap.phi[0]], [0, 0, 0]);
  assert.equal(shap.expected[0], 3.5);
});

type Row = Record<string, number>;
const PLAYERS = ['a', 'b', 'c', 'd', 'e'];
/** Interactions, a non-linearity and a feature (e) the function ignores. */
const f = (r: Row) => r.a * r.b + 2 * r.c - r.d ** 2 + Math.max(0, r.a + r.c);

test('sampled Shapley values converge to the brute-force interventional values', () => {
  const rng = derive(17);
  const row = (): Row => Object.fromEntries(PLAYERS.map((p) => [p, rng.normal()]));
  const x = row();
  const background = Array.from({ length: 30 }, row);
  const groups = PLAYERS.map((p, i) => ({ name: p, features: [p], columns: [i] }));
  const compose = composeRows(groups) as (x: Row, b: Row, inCoalition: Uint8Array) => Row;
  let calls = 0;
  const predict = (rows: Row[]) => (calls++, Float64Array.from(rows, f));
  const exact = exactShapley(PLAYERS.length, interventionalValue(x, background, compose, PLAYERS.length, predict));
  calls = 0;
  const sampled = sampledShapley({
    x,
    background,
    players: PLAYERS.length,
    compose,
    predict,
    outputs: 1,
    samples: 4000,
    seed: 3,
    batchRows: 4000,
  });
  // Local accuracy holds exactly; every value is within 4 standard errors, and close in absolute terms.
  const total = sampled.expected[0] + sampled.phi[0].reduce((a, v) => a + v, 0);
  assert.ok(Math.abs(total - f(x)) < 1e-9);
  for (let i = 0; i < PLAYERS.length; i++) {
    const error = Math.abs(sampled.phi[0][i] - exact[i]);
    assert.ok(
      error <= 4 * sampled.standardErrors[0][i] + 1e-12,
      `${PLAYERS[i]}: ${sampled.phi[0][i]} vs exact ${exact[i]} (se ${sampled.standardErrors[0][i]})`,
    );
    assert.ok(error < 0.05, `${PLAYERS[i]}: off by ${error}`);
  }
  // e is ignored by f: exactly 0 in every sample.
  assert.equal(sampled.standardErrors[0][4], 0);
  assert.equal(sampled.phi[0][4], 0);
  // Batched: the row and background once each, then 8 rows per sample in batches of 4000 rows.
  assert.equal(calls, 2 + Math.ceil((4000 * 8) / 4000));
  // Seeded: the same seed gives the same values.
  const again = sampledShapley({ x, background, players: PLAYERS.length, compose, predict, outputs: 1, samples: 4000, seed: 3 });
  assert.deepEqual(again.phi, sampled.phi);
});

test('exact Shapley values of a known game', () => {
  // Glove game: player 0 holds a left glove, players 1 and 2 right gloves; a pair is worth 1.
  const phi = exactShapley(3, (s) => (s & 1 && s & 6 ? 1 : 0));
  assert.ok(Math.abs(phi[0] - 2 / 3) < 1e-12 && Math.abs(phi[1] - 1 / 6) < 1e-12 && Math.abs(phi[2] - 1 / 6) < 1e-12);
  assert.throws(() => exactShapley(21, () => 0), /players must be 1..20/);
});

test('permutation importance finds the informative feature', () => {
  const rng = derive(18);
  const rows = Array.from({ length: 400 }, () => ({ signal: rng.normal(), noise: rng.normal(), weak: rng.normal() }));
  const labels = rows.map((r) => (r.signal + 0.3 * r.weak > 0 ? 'yes' : 'no'));
  const score = (scored: readonly Record<string, unknown>[]) =>
    scored.filter((r, i) => ((r.signal as number) + 0.3 * (r.weak as number) > 0 ? 'yes' : 'no') === labels[i]).length / scored.length;
  const result = permutationImportance({
    rows,
    features: ['signal', 'noise', 'weak'].map((name) => ({ name, keys: [name] })),
    score,
    metric: 'accuracy',
    repeats: 5,
    seed: 1,
  });
  assert.equal(result.baseline, 1);
  const [signal, noise, weak] = result.features;
  assert.ok(signal.mean > 0.3, `signal ${signal.mean}`);
  assert.ok(weak.mean > 0.02 && weak.mean < signal.mean, `weak ${weak.mean}`);
  assert.equal(noise.mean, 0);
  assert.equal(signal.losses.length, 5);
  // RMSE: a loss is the error gained.
  const rmse = permutationImportance({
    rows,
    features: [{ name: 'signal', keys: ['signal'] }],
    score: (s) => 1 - score(s),
    metric: 'rmse',
    repeats: 2,
    seed: 1,
  });
  assert.ok(rmse.features[0].mean > 0.3);
});

test('attributions are per feature: one-hot columns summed, an image as one feature', () => {
  const pre = fitPreprocessor(
    [{ x: 1, colour: 'red', y: 2 }],
    ['x', { name: 'colour', type: 'category', values: ['red', 'green', 'blue'] }, 'y'],
    ['a', 'b'],
  );
  const groups = featureGroups(pre);
  assert.deepEqual(
    groups.map((g) => [g.name, g.columns]),
    [
      ['x', [0]],
      ['colour', [1, 2, 3]],
      ['y', [4]],
    ],
  );
  assert.deepEqual([...sumByGroup([1, 2, 3, 4, 5], groups)], [1, 9, 5]);
  assert.equal(groupingNote(pre, groups), undefined);
  const pixels = ['p0', 'p1', 'p2', 'p3'];
  const image = fitPreprocessor(
    [{ p0: 0, p1: 1, p2: 2, p3: 3, pen: 'ink' }],
    [...pixels, { name: 'pen', type: 'category', values: ['ink', 'pencil'] }],
    ['a', 'b'],
    {
      height: 2,
      width: 2,
      channels: 1,
    },
  );
  const imageGroups = featureGroups(image);
  assert.deepEqual(
    imageGroups.map((g) => [g.name, g.features]),
    [
      ['image', pixels],
      ['pen', ['pen']],
    ],
  );
  assert.match(groupingNote(image, imageGroups)!, /4 pixel features \(p0..p3\) are attributed as one feature, "image"/);
});
