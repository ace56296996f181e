/**
 * The standard normal distribution: its CDF and quantile (the sequential and z-tests of
 * core/sequential/), and truncated to an interval, what TPE's Parzen kernels are made of
 * (core/sampling/parzen.ts).
 * JavaScript has no erf, so it is computed here from two classical expansions, each used where
 * it converges fast and without cancellation (relative error ~1e-14 against SciPy):
 *
 *   erf(x)  = 2/sqrt(pi) * exp(-x^2) * sum_n (2x^2)^n x / (1*3*...*(2n+1))   (all terms positive)
 *   erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + (2/2)/(x + (3/2)/(x + ...))))   (x >= 2)
 *
 * Tails are always taken on the side where they are small, so tiny probabilities keep their
 * relative precision instead of becoming 1 - (1 - p).
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */

const SQRT_PI = Math.sqrt(Math.PI);
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
/** Below this the series is used, above it the continued fraction. */
const SERIES_LIMIT = 2;

function erfSeries(x: number): number {
  const twoX2 = 2 * x * x;
  let term = x;
  let sum = x;
  for (let n = 1; term > sum * 1e-17; n++) {
    term *= twoX2 / (2 * n + 1);
    sum += term;
  }
  return (2 / SQRT_PI) * Math.exp(-x * x) * sum;
}

/** Modified Lentz evaluation of the continued fraction above. */
function erfcContinuedFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    d = x + a * d;
    d = d === 0 ? 1 / tiny : 1 / d;
    c = x + a / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (SQRT_PI * f);
}

/** Complementary error function. */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  return x < SERIES_LIMIT ? 1 - erfSeries(x) : erfcContinuedFraction(x);
}

/** Standard normal CDF, accurate in the lower tail (z << 0). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/**
 * Standard normal quantile. Starts from Abramowitz & Stegun 26.2.23 (error < 4.5e-4) and
 * polishes with Halley steps on the lower-tail CDF, which converge cubically.
 */
export function normalPpf(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  if (p > 0.5) return -normalPpf(1 - p);
  const t = Math.sqrt(-2 * Math.log(p));
  let z = -(t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t));
  for (let i = 0; i < 3; i++) {
    const u = (normalCdf(z) - p) * Math.exp(LOG_SQRT_2PI + (z * z) / 2);
    z -= u / (1 + (z * u) / 2);
  }
  return z;
}

/** log P(a < Z < b) for a standard normal Z and a < b. */
export function logGaussMass(a: number, b: number): number {
  if (a > 0) return logGaussMass(-b, -a); // mirror into the lower tail, where Φ is precise
  if (b <= 0) return Math.log(normalCdf(b) - normalCdf(a));
  return Math.log1p(-(normalCdf(a) + normalCdf(-b)));
}

/** log density at x of N(mu, sigma) truncated to [low, high]. */
export function truncNormLogPdf(x: number, mu: number, sigma: number, low: number, high: number): number {
  const z = (x - mu) / sigma;
  return -0.5 * z * z - LOG_SQRT_2PI - Math.log(sigma) - logGaussMass((low - mu) / sigma, (high - mu) / sigma);
}

/** Inverse-CDF draw of N(mu, sigma) truncated to [low, high] from one uniform u in [0, 1). */
export function truncNormSample(u: number, mu: number, sigma: number, low: number, high: number): number {
  const a = (low - mu) / sigma;
  const b = (high - mu) / sigma;
  return Math.min(high, Math.max(low, mu + sigma * standardTruncSample(u, a, b)));
}

function standardTruncSample(u: number, a: number, b: number): number {
  if (a > 0) return -standardTruncSample(1 - u, -b, -a); // both bounds in the upper tail: mirror
  const pa = normalCdf(a);
  return normalPpf(pa + u * (normalCdf(b) - pa));
}
