/**
 * One monitoring cycle over the prediction/feedback log: returns a compact summary for the
 * lifecycle workflow (never raw rows). Drift compares the most recent predictions' inputs
 * with the reference profile saved with the champion at training time.
 */
import type { MonitoringSummaryV1 as MonitoringSummary } from '../core/policy-v1.ts';
import type { ModelSpec } from '../core/spec.ts';
import { ksTwoSample } from '../core/stats/ks.ts';
import type { ActivityContext } from './context.ts';
import { profileCache } from './profiles.ts';

export function monitoringActivities(ctx: ActivityContext) {
  const championProfile = profileCache(ctx);

  return {
    async summarizeProduction(input: {
      spec: ModelSpec;
      championVersion: string;
      feedbackCursor: number;
      trainedThroughRecordId: number;
    }): Promise<MonitoringSummary> {
      const { spec, championVersion } = input;
      const model = spec.name;

      // Only the champion's own predictions judge the champion; canary traffic is judged by the retrain.
      const labelled = ctx.store.labelledSince(model, input.feedbackCursor).filter((p) => p.version === championVersion);
      const correct = labelled.filter((p) => p.predicted === p.truth).length;

      const recent = ctx.store.recentPredictions(model, spec.monitoring.windowRows);
      const profile = await championProfile(model, championVersion);
      const pValue = spec.policies.drift?.pValue ?? 0.05;
      const features = spec.features.map(({ name }) => {
        const current = recent.map((p) => Number(p.features[name])).filter(Number.isFinite);
        const reference = profile.features[name]?.sample ?? [];
        if (current.length === 0 || reference.length === 0) return { name, statistic: 0, pValue: 1, drifted: false };
        const { statistic, pValue: p } = ksTwoSample(reference, current);
        return { name, statistic, pValue: p, drifted: p < pValue };
      });

      return {
        at: new Date().toISOString(),
        championVersion,
        labelled: { n: labelled.length, accuracy: labelled.length ? correct / labelled.length : null },
        newLabels: ctx.store.countRecordsSince(model, input.trainedThroughRecordId),
        drift: {
          rows: recent.length,
          features,
          driftedShare: features.filter((f) => f.drifted).length / features.length,
        },
        feedbackCursor: Math.max(input.feedbackCursor, ctx.store.maxFeedbackId(model)),
      };
    },
  };
}
