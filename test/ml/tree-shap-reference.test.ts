/**
 * Tree SHAP against the reference implementation: the `shap` package from PyPI (TreeExplainer,
 * tree_path_dependent) on LightGBM models trained in .venv (test/ml/tree_shap_reference.py), a
 * regression, a binary and a 3-class model on data with missing values, dumped into the Tree
 * shape. The dump must first predict LightGBM's raw scores exactly (the conversion is right,
 * NaN routing included); then every attribution and expected value must match shap's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { VENV_BIN } from '../../stack/services.ts';
import { PROJECT_ROOT } from '../../config/paths.ts';
import { rawScores, type Tree, type TreeEnsemble } from '../../ml/gbdt/tree.ts';
import { treeShap } from '../../ml/explain/tree-shap.ts';

interface DumpedTree {
  feature: number[];
  threshold: number[];
  missingLeft: number[];
  left: number[];
  right: number[];
  value: number[];
  cover: number[];
  gain: number[];
}
interface Reference {
  lightgbm: string;
  shap: string;
  models: Array<{
    name: string;
    ensemble: Omit<TreeEnsemble, 'trees' | 'base'> & { trees: DumpedTree[][]; base: number[] };
    rows: Array<Array<number | null>>;
    shap: number[][][];
    expected: number[];
    raw: number[][];
  }>;
}

const toTree = (t: DumpedTree): Tree => ({
  feature: Int32Array.from(t.feature),
  threshold: Float64Array.from(t.threshold),
  missingLeft: Uint8Array.from(t.missingLeft),
  left: Int32Array.from(t.left),
  right: Int32Array.from(t.right),
  value: Float64Array.from(t.value),
  cover: Float64Array.from(t.cover),
  gain: Float64Array.from(t.gain),
});

test('Tree SHAP matches shap.TreeExplainer on LightGBM models', async () => {
  const script = join(PROJECT_ROOT, 'test', 'ml', 'tree_shap_reference.py');
  const { stdout } = await promisify(execFile)(join(VENV_BIN, 'python'), [script], { timeout: 120_000, maxBuffer: 64 << 20 });
  const reference = JSON.parse(stdout) as Reference;
  const report: string[] = [];
  for (const model of reference.models) {
    const ensemble: TreeEnsemble = {
      ...model.ensemble,
      trees: model.ensemble.trees.map((ts) => ts.map(toTree)),
      base: Float64Array.from(model.ensemble.base),
    };
    let rawDiff = 0;
    let shapDiff = 0;
    let expectedDiff = 0;
    model.rows.forEach((cells, i) => {
      const row = Float64Array.from(cells, (v) => v ?? NaN);
      const raw = rawScores(ensemble, row);
      const values = treeShap(ensemble, row);
      for (let k = 0; k < ensemble.nOutputs; k++) {
        rawDiff = Math.max(rawDiff, Math.abs(raw[k] - model.raw[i][k]));
        expectedDiff = Math.max(expectedDiff, Math.abs(values.expected[k] - model.expected[k]));
        for (let c = 0; c < ensemble.nColumns; c++) shapDiff = Math.max(shapDiff, Math.abs(values.phi[k][c] - model.shap[i][k][c]));
      }
    });
    // A model that learned nothing (one class, constant trees) would agree trivially.
    const largest = Math.max(...model.shap.flat(2).map(Math.abs));
    assert.ok(largest > 0.1, `${model.name}: shap's attributions are all near 0 (largest ${largest}): a degenerate reference`);
    assert.ok(model.rows.flat().includes(null), 'some explained rows have missing values');
    report.push(
      `${model.name}: max |phi - shap| ${shapDiff.toExponential(2)}, expected ${expectedDiff.toExponential(2)}, raw ${rawDiff.toExponential(2)}`,
    );
    assert.ok(rawDiff < 1e-9, `${model.name}: the dumped trees predict LightGBM's raw scores (off by ${rawDiff})`);
    assert.ok(expectedDiff < 1e-6, `${model.name}: expected value off by ${expectedDiff}`);
    assert.ok(shapDiff < 1e-6, `${model.name}: attributions off by ${shapDiff}`);
  }
  console.log(`lightgbm ${reference.lightgbm}, shap ${reference.shap}\n${report.join('\n')}`);
});
