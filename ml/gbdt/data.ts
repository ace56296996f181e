/** The training set the booster reads, and its validation. */
import { GbdtInputError } from './params.ts';

export interface TrainingSet {
  /** Row-major, nRows x nColumns; NaN = missing. */
  x: Float32Array;
  nRows: number;
  nColumns: number;
  /** Regression values, or class index 0..nClasses-1. */
  target: Float64Array;
  /** 0 for regression. */
  nClasses: number;
  weights?: Float64Array;
}

export function validateTrainingSet(data: TrainingSet): void {
  const fail = (message: string): never => {
    throw new GbdtInputError(`gbdt training set: ${message}`);
  };
  const { x, nRows, nColumns, target, nClasses, weights } = data;
  if (!Number.isInteger(nRows) || nRows < 1) fail(`nRows must be an integer >= 1, got ${nRows}`);
  if (!Number.isInteger(nColumns) || nColumns < 1) fail(`nColumns must be an integer >= 1, got ${nColumns}`);
  if (!(x instanceof Float32Array)) fail('x must be a Float32Array');
  if (x.length !== nRows * nColumns) fail(`x has ${x.length} values, expected nRows * nColumns = ${nRows * nColumns}`);
  for (let i = 0; i < x.length; i++) {
    if (x[i] === Infinity || x[i] === -Infinity) fail(`x is infinite at row ${Math.floor(i / nColumns)}, column ${i % nColumns}`);
  }
  if (!(target instanceof Float64Array)) fail('target must be a Float64Array');
  if (target.length !== nRows) fail(`target has ${target.length} values, expected nRows = ${nRows}`);
  if (!(nClasses === 0 || (Number.isInteger(nClasses) && nClasses >= 2)))
    fail(`nClasses must be 0 (regression) or an integer >= 2, got ${nClasses}`);
  for (let i = 0; i < nRows; i++) {
    const y = target[i];
    if (nClasses === 0 ? !Number.isFinite(y) : !(Number.isInteger(y) && y >= 0 && y < nClasses)) {
      fail(`target[${i}] must be ${nClasses === 0 ? 'a finite number' : `a class index in 0..${nClasses - 1}`}, got ${y}`);
    }
  }
  if (weights !== undefined) {
    if (!(weights instanceof Float64Array) || weights.length !== nRows) fail(`weights must be a Float64Array of nRows = ${nRows} values`);
    let total = 0;
    for (let i = 0; i < nRows; i++) {
      if (!(Number.isFinite(weights[i]) && weights[i] >= 0)) fail(`weights[${i}] must be a finite number >= 0, got ${weights[i]}`);
      total += weights[i];
    }
    if (!(total > 0)) fail('weights must not all be 0');
  }
}
