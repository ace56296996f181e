/**
 * The classic fixed-horizon two-proportion z-test, for the A/B test's result report once its set
 * duration is over: the effect (challenger minus champion accuracy), its Wald confidence interval
 * and the two-sided p-value. Valid only when looked at once, at a horizon fixed in advance;
 * checking it after every batch inflates the error rate (bench/strategies measures by how much),
 * which is why the canary and an early-stopping A/B test use the always-valid test instead.
 *
 * - p-value: pooled z = (p2 - p1) / sqrt(p (1 - p) (1/n1 + 1/n2)), p = (c1 + c2) / (n1 + n2), as
 *   statsmodels' `proportions_ztest` (and scipy's chi2_contingency(correction=False), whose
 *   statistic is z²);
 * - interval: unpooled Wald, (p2 - p1) ± z_{1-α/2} sqrt(p1(1-p1)/n1 + p2(1-p2)/n2), as statsmodels'
 *   `confint_proportions_2indep(method='wald')`.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */
import { normalCdf, normalPpf } from '../stats/normal.ts';
import type { Tally } from './two-proportions.ts';

export interface ZTestResult {
  effect: number;
  lower: number;
  upper: number;
  z: number;
  pValue: number;
  samples: { champion: number; challenger: number };
}

/** Throws a RangeError when an arm has no samples. */
export function twoProportionZTest(champion: Tally, challenger: Tally, alpha = 0.05): ZTestResult {
  if (champion.n <= 0 || challenger.n <= 0) throw new RangeError('twoProportionZTest: each arm needs labelled samples');
  const p1 = champion.correct / champion.n;
  const p2 = challenger.correct / challenger.n;
  const effect = p2 - p1;
  const pooled = (champion.correct + challenger.correct) / (champion.n + challenger.n);
  const pooledSe = Math.sqrt(pooled * (1 - pooled) * (1 / champion.n + 1 / challenger.n));
  // Both arms all right (or all wrong): no evidence of a difference.
  const z = pooledSe > 0 ? effect / pooledSe : 0;
  const radius = normalPpf(1 - alpha / 2) * Math.sqrt((p1 * (1 - p1)) / champion.n + (p2 * (1 - p2)) / challenger.n);
  return {
    effect,
    lower: effect - radius,
    upper: effect + radius,
    z,
    pValue: 2 * normalCdf(-Math.abs(z)),
    samples: { champion: champion.n, challenger: challenger.n },
  };
}
