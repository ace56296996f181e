/**
 * The gamma function family: ln Γ, the regularized upper incomplete gamma Q(a, x), and through it
 * the chi-square survival function (scipy.stats.chi2.sf). Also Stirling's series, which the
 * Kolmogorov distribution (kolmogorov.ts) uses for log(n! / n^n).
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */
import { clamp01 } from './numbers.ts';
/**
 * Survival function of the chi-square distribution with `df` degrees of freedom,
 * P(X >= x) = Q(df/2, x/2) (regularized upper incomplete gamma), as scipy.stats.chi2.sf.
 * Returns 1 for x <= 0, 0 for x = Infinity, NaN for NaN or df <= 0.
 */
export function chiSquareSf(x: number, df: number): number {
  if (Number.isNaN(x) || !(df > 0)) return NaN;
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  return regularizedGammaQ(df / 2, x / 2);
}

const GAMMA_EPS = 1e-16;
const GAMMA_MAX_ITERATIONS = 100_000;
const TINY = 1e-300;

/**
 * Q(a, x) = Γ(a, x) / Γ(a), following Numerical Recipes (gammq): the series for P = 1 - Q when
 * x < a + 1 (there P is not close to 1, so 1 - P keeps full relative precision), the continued
 * fraction (modified Lentz) for Q itself otherwise, which keeps tiny tail probabilities accurate.
 */
function regularizedGammaQ(a: number, x: number): number {
  // log of the common prefactor x^a e^-x / Γ(a), computed in log space against overflow
  const logPrefactor = a * Math.log(x) - x - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < GAMMA_MAX_ITERATIONS; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * GAMMA_EPS) break;
    }
    return clamp01(1 - sum * Math.exp(logPrefactor));
  }
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < GAMMA_MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < GAMMA_EPS) break;
  }
  return clamp01(Math.exp(logPrefactor) * h);
}

// Stirling series coefficients B_{2j} / (2j (2j - 1)), j = 1..8.
const STIRLING = [1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156, -3617 / 122400];
export const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * sum_j STIRLING[j] y^(j-1), by Horner from the highest power: Stirling's series for ln Γ(x) or
 * log(x!) is (this polynomial at y = 1/x²) / x. Callers form y themselves (1/x * 1/x, or 1/x / x),
 * as each did before this was shared, so their results stay bit for bit what they were.
 */
export function stirlingPolynomial(y: number): number {
  let series = 0;
  for (let j = STIRLING.length - 1; j >= 0; j--) series = series * y + STIRLING[j];
  return series;
}

/**
 * ln Γ(a) for a > 0: shifted up to a >= 15 by Γ(a) = Γ(a + n) / (a (a+1) ... (a+n-1)), then
 * Stirling's series, whose truncation error there is far below double precision.
 */
export function logGamma(a: number): number {
  let x = a;
  let product = 1;
  while (x < 15) {
    product *= x;
    x += 1;
  }
  const inv = 1 / x;
  const series = stirlingPolynomial(inv * inv);
  return (x - 0.5) * Math.log(x) - x + HALF_LOG_2PI + series * inv - Math.log(product);
}
