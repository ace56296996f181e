/**
 * The mixture sequential probability ratio test (mSPRT) with a normal mixing distribution, on an
 * estimate of an effect that is approximately normal with a known (or plug-in) variance: Johari,
 * Pekelis & Walsh, "Always Valid Inference: Continuous Monitoring of A/B Tests" (Operations
 * Research 70(3), 2022; arXiv 1512.04922), section 4 and Optimizely's Stats Engine.
 *
 * With an estimate d of the effect θ, its variance V, and the effect mixed over N(θ0, τ²):
 *
 *   Λ(θ0) = sqrt(V / (V + τ²)) * exp( τ² (d - θ0)² / (2 V (V + τ²)) )
 *
 * Under θ = θ0, Λ is a nonnegative martingale with mean 1 (for normal data; asymptotically with a
 * plug-in V), so by Ville's inequality P(Λ ever reaches 1/α) <= α: looking after every batch and
 * stopping at the first look that crosses does not inflate the error rate. Hence
 * - the always-valid p-value is 1 / (the largest Λ(θ0) seen so far), capped at 1;
 * - the always-valid (1 - α) confidence set is {θ : Λ(θ) < 1/α}, the interval
 *   d ± sqrt( V (V + τ²) / τ² * (2 log(1/α) + log((V + τ²) / V)) ), intersected over the looks.
 *
 * τ² (the mixing variance) says which effects the test is tuned to find fastest: roughly those whose
 * estimate has variance τ² at the moment they become detectable. It must be fixed before the test
 * starts (never from the data being tested), or the guarantee is lost.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */

/** log Λ(θ0): logarithms, so that a strong effect (a huge Λ) does not overflow. */
export function logMixtureLikelihoodRatio(estimate: number, variance: number, mixingVariance: number, theta0 = 0): number {
  const total = variance + mixingVariance;
  const gap = estimate - theta0;
  return 0.5 * Math.log(variance / total) + (mixingVariance * gap * gap) / (2 * variance * total);
}

/** Half-width of {θ : Λ(θ) < 1/α} around the estimate (the closed form of the header). */
export function mixtureConfidenceRadius(variance: number, mixingVariance: number, alpha: number): number {
  const total = variance + mixingVariance;
  return Math.sqrt(((variance * total) / mixingVariance) * (2 * Math.log(1 / alpha) + Math.log(total / variance)));
}
