/**
 * The background rows sampled Shapley values draw "absent" feature values from, built from the
 * model's own profile.json (ml/bundle.ts buildProfile): the server has no training rows, but the
 * profile keeps each numeric feature's sample (evenly spaced quantiles) and missing count, and
 * each category feature's value counts.
 *
 * Every feature is drawn independently from its own marginal distribution: the joint
 * distribution (correlations between features) is not in the profile. Interventional Shapley
 * values only need a reference distribution to stand in for absent features, and independent
 * marginals are the usual choice when there is no data (shap's Independent masker); rows that
 * never occur together can appear, which matters most for strongly correlated features.
 */
import type { ReferenceProfile } from '../../core/profile.ts';
import { derive, type Rng } from '../../core/stats/rng.ts';

export type BackgroundRow = Record<string, string | number | null>;

export function profileBackground(profile: ReferenceProfile, features: readonly string[], size: number, seed: number): BackgroundRow[] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`profileBackground: size must be a positive integer (got ${size})`);
  const draws = features.map((feature, i) => marginal(profile.features[feature], derive(seed, i)));
  return Array.from({ length: size }, () => Object.fromEntries(features.map((feature, i) => [feature, draws[i]()])));
}

/** One feature's sampler: missing as often as in training, else a value from its sample or counts. */
function marginal(profile: ReferenceProfile['features'][string] | undefined, rng: Rng): () => string | number | null {
  if (!profile) return () => null;
  if (profile.kind === 'category') {
    const values = Object.entries(profile.counts ?? {});
    const total = profile.missing + values.reduce((a, [, n]) => a + n, 0);
    if (total === 0) return () => null;
    return () => {
      let u = rng.uniform() * total;
      for (const [value, n] of values) if ((u -= n) < 0) return value;
      return null; // the missing share
    };
  }
  const rows = profile.n + profile.missing;
  const missingShare = rows > 0 ? profile.missing / rows : 1;
  // A profile without a sample (none kept for the feature) still knows the mean.
  const sample = profile.sample.length ? profile.sample : profile.n > 0 ? [profile.mean] : [];
  if (sample.length === 0) return () => null;
  return () => (rng.uniform() < missingShare ? null : rng.choice(sample));
}
