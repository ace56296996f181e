/**
 * Symmetric positive definite systems by their Cholesky factor: enough linear algebra for a
 * quadratic form x' A⁻¹ x (the Hotelling-type drift test on image block means), with no matrix
 * inverse formed.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */

/**
 * The lower-triangular L with L L' = A, for a symmetric positive definite n x n matrix `a`
 * (row-major; only its lower triangle is read). Row-major n x n, zeros above the diagonal.
 * Throws a RangeError when `a` has the wrong length or is not positive definite.
 */
export function cholesky(a: ArrayLike<number>, n: number): Float64Array {
  if (!Number.isInteger(n) || n < 1 || a.length !== n * n) {
    throw new RangeError(`cholesky: need an n x n matrix (n ${n}, ${a.length} entries)`);
  }
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        if (!(s > 0)) throw new RangeError(`cholesky: the matrix is not positive definite (pivot ${i}: ${s})`);
        l[i * n + i] = Math.sqrt(s);
      } else {
        l[i * n + j] = s / l[j * n + j];
      }
    }
  }
  return l;
}

/** x' A⁻¹ x from A's Cholesky factor `l` (cholesky): solve L y = x forward, then |y|². */
export function inverseQuadraticForm(l: Float64Array, n: number, x: ArrayLike<number>): number {
  if (x.length !== n || l.length !== n * n) throw new RangeError(`inverseQuadraticForm: need a vector of ${n} and an n x n factor`);
  const y = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let s = x[i];
    for (let k = 0; k < i; k++) s -= l[i * n + k] * y[k];
    y[i] = s / l[i * n + i];
    sum += y[i] * y[i];
  }
  return sum;
}
