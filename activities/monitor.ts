/**
 * One monitoring cycle of the champion: reads the prediction and
 * feedback log since the previous cycle and returns a compact MonitoringSummary — performance on
 * feedback, input drift against the training profile, prediction drift and confidence, input
 * anomalies, concept-drift detectors on the error stream, fairness, counts, and a classifier's
 * label-free accuracy estimate (CBPE, calibrated at retrain: ./cbpe.ts) — never raw rows.
 * Monitoring metrics go to the champion's MLflow monitoring run by cycle step; a cycle that finds
 * drift or anomalies also writes a drift report (JSON and HTML) there.
 *
 * Idempotent: everything is a function of the input cursors and the log, and MLflow points and
 * artifacts are keyed by the cycle, so a retried cycle writes the same things again.
 */
import { estimatedPerformance } from '../core/estimation/champion-estimate.ts';
import { freshDetectors, summarizeCycle } from '../core/monitoring-cycle.ts';
import { summarizeShadow } from '../core/shadow.ts';
import type { MonitoringSummary } from '../core/monitoring.ts';
import type { PolicySpec } from '../core/policy.ts';
import type { ModelSpec } from '../core/spec.ts';
import { isRegression } from '../core/spec-reading.ts';
import type { ActivityContext } from './context.ts';
import { profileCache } from './profiles.ts';
import { cbpeCache } from './cbpe.ts';
import { driftReport } from './drift-report.ts';
import { experimentName } from '../adapters/mlflow/model-files.ts';
import type { MonitorCursors, MonitorResult } from '../core/contracts.ts';
import type { MlflowRun } from '../adapters/mlflow/client.ts';

export function monitorActivities(ctx: ActivityContext) {
  const championProfile = profileCache(ctx);
  const calibrationOf = cbpeCache(ctx);

  /**
   * The champion's monitoring run: one per champion version, metrics by cycle. Found once per
   * champion and worker, then reused: looking it up is two MLflow requests (a search among them),
   * which every cycle of every model would otherwise pay.
   */
  const runs = new Map<string, { version: string; run: MlflowRun }>();
  async function monitoringRun(model: string, version: string) {
    const known = runs.get(model);
    if (known?.version === version) return known.run;
    const experimentId = await ctx.mlflow.getOrCreateExperiment(experimentName(model), { 'perennial.model': model });
    const { run } = await ctx.mlflow.findOrCreateRun({
      experimentId,
      key: `${model}/monitoring/v${version}`,
      runName: `monitoring v${version}`,
      tags: { 'perennial.model': model, 'perennial.kind': 'monitoring', 'perennial.champion': version },
    });
    runs.set(model, { version, run });
    return run;
  }

  return {
    async monitorChampion(input: {
      spec: ModelSpec;
      policies: PolicySpec;
      championVersion: string;
      /** The previous cycle's cursors (of this or an earlier champion); absent for a model's first cycle. */
      cursors?: MonitorCursors;
      /** Where the lifecycle's feedback watermark stands (the first cycle of a champion starts there). */
      feedbackCursor: number;
      trainedThroughRecordId: number;
      /** The cycle's time, from the workflow, so a retried cycle logs identical points. */
      at: string;
    }): Promise<MonitorResult> {
      const { spec, championVersion } = input;
      const model = spec.name;
      const settings = spec.monitoring;
      // A new champion starts with fresh detectors and cycle count; the log cursors carry over, so
      // traffic that arrived around the promotion is still looked at.
      const previous = input.cursors;
      const cursors: MonitorCursors =
        previous?.championVersion === championVersion
          ? previous
          : {
              championVersion,
              cycle: 0,
              feedback: input.feedbackCursor,
              predictions: previous?.predictions ?? 0,
              counted: previous?.counted ?? 0,
              detectors: freshDetectors(),
            };
      const cycle = cursors.cycle + 1;
      const profile = await championProfile(model, championVersion);

      // The champion's own predictions judge the champion; canaries are judged by their retrain.
      const feedback = await ctx.store.feedbackSince(model, cursors.feedback);
      const championFeedback = feedback.filter((f) => f.version === championVersion);
      // Inputs: the predictions since the last tested window, once there are enough of them (the
      // drift shorthand's minRows, where given, still decides).
      const pending = await ctx.store.countPredictionsSince(model, cursors.predictions);
      const tested = pending >= (input.policies.drift?.minRows ?? settings.drift.minRows);
      const window = tested ? await ctx.store.predictionsSince(model, cursors.predictions, settings.maxRows) : undefined;

      const { summary, detectors, drift } = summarizeCycle({
        spec,
        policies: input.policies,
        cycle,
        championVersion,
        at: input.at,
        profile,
        feedback: championFeedback,
        detectors: cursors.detectors,
        window: window?.rows,
        pendingRows: pending,
        newLabels: await ctx.store.countRecordsSince(model, input.trainedThroughRecordId),
        newRows: await ctx.store.countPredictionsSince(model, cursors.counted),
      });
      const anomalies = summary.anomalies;
      const next: MonitorCursors = {
        championVersion,
        cycle,
        feedback: feedback.reduce((last, f) => Math.max(last, f.feedbackId), cursors.feedback),
        predictions: window?.maxSeq ?? cursors.predictions,
        counted: await ctx.store.maxPredictionSeq(model),
        detectors,
      };
      // The label-free estimate: every cycle, on the champion's predictions served since the previous one.
      if (!isRegression(spec.label)) {
        const served = (await ctx.store.predictionsSince(model, cursors.counted, settings.maxRows)).rows.filter(
          (p) => p.version === championVersion && p.seq <= next.counted,
        );
        const labelled = championFeedback.map((f) => ({ label: f.predicted, probabilities: f.probabilities }));
        summary.estimated = estimatedPerformance(await calibrationOf(model, championVersion), championVersion, served, labelled);
      }
      // A shadow, when deployed, is compared on the rows and labels between this cycle's cursors,
      // so that each pair and each label counts in one cycle only.
      const shadow = (await ctx.store.getDeployment(model))?.shadow;
      if (shadow) {
        const counts = await ctx.store.shadowPairCounts(model, shadow.version, {
          afterSeq: cursors.counted,
          throughSeq: next.counted,
          afterFeedbackId: cursors.feedback,
          throughFeedbackId: next.feedback,
        });
        summary.shadow = summarizeShadow(shadow.version, counts, isRegression(spec.label));
      }

      const run = await monitoringRun(model, championVersion);
      try {
        if (drift && (drift.drifted.length > 0 || (anomalies.anomalyRate ?? 0) > 0)) {
          const dir = `monitoring/cycle-${String(cycle).padStart(4, '0')}`;
          const details = { summary, histograms: Object.fromEntries(drift.features.map((f) => [f.name, f.histogram])) };
          await ctx.mlflow.uploadArtifact(run.artifactUri, `${dir}/drift.json`, JSON.stringify(details, null, 2), 'application/json');
          const report = await driftReport(model, summary, drift.features);
          await ctx.mlflow.uploadArtifact(run.artifactUri, `${dir}/drift.html`, report.html, 'text/html');
          for (const chart of report.charts)
            await ctx.mlflow.uploadArtifact(
              run.artifactUri,
              `${dir}/${chart.file}`,
              JSON.stringify(chart.spec, null, 2),
              'application/json',
            );
          summary.report = `${dir}/drift.html`;
        }
        await ctx.mlflow.logBatch(run.runId, { metrics: cycleMetrics(summary, Date.parse(input.at)) });
      } catch (err) {
        // The run may have been deleted in MLflow meanwhile: the retried cycle looks it up again.
        runs.delete(model);
        throw err;
      }
      // Set-state like the MLflow points: a retried cycle publishes the same numbers again.
      ctx.cycleMetrics?.record(model, summary);

      return { summary, cursors: next };
    },
  };
}

/** The cycle's numbers as MLflow metrics at step = cycle, so the UI charts them over time. */
function cycleMetrics(s: MonitoringSummary, timestamp: number) {
  const values: Record<string, number | null | undefined> = {
    labelled: s.performance.n,
    feedback_accepted: s.performance.implicit.accepted,
    feedback_overridden: s.performance.implicit.overridden,
    accuracy: s.performance.accuracy,
    estimated_accuracy: s.estimated?.accuracy,
    estimated_rows: s.estimated?.n,
    estimated_accuracy_on_labelled: s.estimated?.onLabelled,
    f1_macro: s.performance.f1Macro,
    precision_macro: s.performance.precisionMacro,
    recall_macro: s.performance.recallMacro,
    log_loss: s.performance.logLoss,
    mae: s.performance.regression?.mae,
    rmse: s.performance.regression?.rmse,
    r2: s.performance.regression?.r2,
    mean_error: s.performance.regression?.meanError,
    drifted_features: s.drift.tested ? s.drift.drifted.length : null,
    drifted_share: s.drift.tested ? s.drift.driftedShare : null,
    prediction_drift: s.predictions.classDrift?.jensenShannon ?? s.predictions.valueDrift?.statistic,
    mean_confidence: s.predictions.meanConfidence,
    low_confidence_share: s.predictions.lowConfidenceShare,
    anomaly_rate: s.anomalies.anomalyRate,
    new_labels: s.newLabels,
    new_rows: s.newRows,
    fairness_gap: s.fairness?.gap,
    shadow_rows: s.shadow?.pairs,
    shadow_agreement: s.shadow?.agreement,
    shadow_mean_abs_difference: s.shadow?.meanAbsDifference,
    shadow_labelled: s.shadow?.shadow.n,
    shadow_accuracy: s.shadow?.shadow.accuracy,
    champion_accuracy_on_shadowed: s.shadow?.champion.accuracy,
    shadow_rmse: s.shadow?.shadow.rmse,
    champion_rmse_on_shadowed: s.shadow?.champion.rmse,
    ...Object.fromEntries(Object.entries(s.detectors).map(([name, d]) => [`detector_${name.replace('-', '_')}`, d.drift ? 1 : 0])),
  };
  return Object.entries(values)
    .filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]))
    .map(([key, value]) => ({ key: `monitoring/${key}`, value, step: s.cycle, timestamp }));
}
