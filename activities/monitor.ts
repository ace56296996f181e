/**
 * One monitoring cycle of the champion (policy-rules-v2 lifecycles): reads the prediction and
 * feedback log since the previous cycle and returns a compact MonitoringSummary — performance on
 * feedback, input drift against the training profile, prediction drift and confidence, input
 * anomalies, concept-drift detectors on the error stream, fairness, counts — never raw rows.
 * Monitoring metrics go to the champion's MLflow monitoring run by cycle step; a cycle that finds
 * drift or anomalies also writes a drift report (JSON and HTML) there.
 *
 * Idempotent: everything is a function of the input cursors and the log, and MLflow points and
 * artifacts are keyed by the cycle, so a retried cycle writes the same things again.
 */
import type { DetectorName, MonitoringSummary } from '../core/monitoring.ts';
import type { PolicySpec } from '../core/policy.ts';
import type { ModelSpec } from '../core/spec.ts';
import { detectAnomalies, type AnomalyReport } from '../core/drift/anomalies.ts';
import { dataDrift, featureColumns } from '../core/drift/data-drift.ts';
import { createDetector, updateMany, type DetectorKind, type DetectorState } from '../core/drift/detectors.ts';
import { classificationReport, confidenceReport, fairnessReport, predictionDrift, resolveFeedback } from '../core/drift/performance.ts';
import type { ActivityContext } from './context.ts';
import { profileCache } from './profiles.ts';
import { driftReportHtml } from './drift-report.ts';
import { experimentName } from './mlflow/model-files.ts';

/** What the lifecycle carries between cycles of one champion. */
export interface MonitorCursors {
  championVersion: string;
  cycle: number;
  /** Last feedback id judged. */
  feedback: number;
  /** Last prediction (seq) whose inputs were tested for drift. */
  predictions: number;
  /** Last prediction (seq) counted in newRows. */
  counted: number;
  detectors: Record<DetectorName, DetectorState>;
}

export interface MonitorResult {
  summary: MonitoringSummary;
  cursors: MonitorCursors;
}

const DETECTOR_KINDS: Record<DetectorName, DetectorKind> = { adwin: 'adwin', ddm: 'ddm', 'page-hinkley': 'pageHinkley' };
const finiteOrNull = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? null : v);

export function monitorActivities(ctx: ActivityContext) {
  const championProfile = profileCache(ctx);

  /** The champion's monitoring run: one per champion version, metrics by cycle. */
  async function monitoringRun(model: string, version: string) {
    const experimentId = await ctx.mlflow.getOrCreateExperiment(experimentName(model), { 'perennial.model': model });
    const { run } = await ctx.mlflow.findOrCreateRun({
      experimentId,
      key: `${model}/monitoring/v${version}`,
      runName: `monitoring v${version}`,
      tags: { 'perennial.model': model, 'perennial.kind': 'monitoring', 'perennial.champion': version },
    });
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
              detectors: Object.fromEntries(Object.entries(DETECTOR_KINDS).map(([name, kind]) => [name, createDetector(kind)])) as MonitorCursors['detectors'],
            };
      const cycle = cursors.cycle + 1;
      const profile = await championProfile(model, championVersion);

      // Performance: the champion's own predictions that got feedback (canaries are judged by their retrain).
      const feedback = ctx.store.feedbackSince(model, cursors.feedback).filter((f) => f.version === championVersion);
      const resolved = resolveFeedback(feedback.map((f) => ({ predicted: f.predicted, feedback: f.feedback })));
      const report = classificationReport({
        truth: resolved.truth,
        predicted: resolved.predicted,
        probabilities: resolved.index.map((i) => feedback[i].probabilities),
        classes: spec.label.classes,
      });
      const judged = resolved.n > 0;

      // Concept drift: the detectors read the error stream in feedback order.
      const errors: number[] = resolved.correct.map((ok) => (ok ? 0 : 1));
      const detectors = {} as MonitorCursors['detectors'];
      const alarms = {} as MonitoringSummary['detectors'];
      for (const name of Object.keys(DETECTOR_KINDS) as DetectorName[]) {
        const run = updateMany(cursors.detectors[name], errors);
        detectors[name] = run.state;
        alarms[name] = { drift: run.alarms.length > 0, warning: run.state.kind === 'ddm' && run.state.warning, errors: errors.reduce((a, b) => a + b, 0) };
      }

      // Inputs: the predictions since the last tested window, once there are enough of them.
      const pending = ctx.store.countPredictionsSince(model, cursors.predictions);
      // The drift shorthand's minRows, where given, still decides (core/policy.ts PolicySpec.drift).
      const tested = pending >= (input.policies.drift?.minRows ?? settings.drift.minRows);
      const window = tested ? ctx.store.predictionsSince(model, cursors.predictions, settings.maxRows) : { rows: [], maxSeq: cursors.predictions };
      const rows = window.rows.map((p) => p.features);
      const drift = tested ? judgeDrift(spec, input.policies, dataDrift({ columns: featureColumns(rows, spec.features), profile, choices: settings.drift.features })) : undefined;
      const anomalies = tested ? compactAnomalies(detectAnomalies(rows, spec.features, profile)) : undefined;
      const championRows = window.rows.filter((p) => p.version === championVersion);
      const classDrift = championRows.length ? predictionDrift({ predicted: championRows.map((p) => p.label), classCounts: profile.classCounts, classes: spec.label.classes }) : undefined;
      const confidence = championRows.length ? confidenceReport(championRows.map((p) => p.probabilities), settings.confidenceThreshold) : undefined;

      const fairness = settings.fairness && judged ? fairnessOf(settings.fairness, feedback, resolved) : undefined;
      const newRows = ctx.store.countPredictionsSince(model, cursors.counted);

      const summary: MonitoringSummary = {
        version: 2,
        at: input.at,
        cycle,
        championVersion,
        performance: {
          n: resolved.n,
          accuracy: judged ? resolved.accuracy : null,
          precisionMacro: resolved.truth.length ? report.macro.precision : null,
          recallMacro: resolved.truth.length ? report.macro.recall : null,
          f1Macro: resolved.truth.length ? report.macro.f1 : null,
          logLoss: finiteOrNull(report.logLoss),
          perClass: Object.fromEntries(Object.entries(report.perClass).map(([c, m]) => [c, { precision: m.precision, recall: m.recall, f1: m.f1, support: m.support }])),
          implicit: {
            accepted: feedback.filter((f) => f.feedback.kind === 'accepted').length,
            overridden: feedback.filter((f) => f.feedback.kind === 'overridden').length,
          },
        },
        drift: {
          rows: tested ? window.rows.length : pending,
          tested,
          features: drift?.features.map((f) => ({ name: f.name, test: f.test, statistic: f.statistic, pValue: f.pValue, threshold: f.threshold, drifted: f.drifted })) ?? [],
          drifted: drift?.drifted ?? [],
          driftedShare: drift?.driftedShare ?? 0,
          skipped: drift?.skipped ?? [],
        },
        predictions: {
          n: championRows.length,
          classDrift: classDrift ? { jensenShannon: classDrift.jensenShannon, linf: classDrift.linf } : null,
          meanConfidence: finiteOrNull(confidence?.meanMaxProbability),
          lowConfidenceShare: finiteOrNull(confidence?.lowConfidenceShare),
        },
        anomalies: anomalies ?? { rows: 0, anomalyRate: null, features: {} },
        detectors: alarms,
        newLabels: ctx.store.countRecordsSince(model, input.trainedThroughRecordId),
        newRows,
        ...(fairness ? { fairness } : {}),
      };

      const run = await monitoringRun(model, championVersion);
      if (drift && (drift.drifted.length > 0 || (anomalies?.anomalyRate ?? 0) > 0)) {
        const dir = `monitoring/cycle-${String(cycle).padStart(4, '0')}`;
        const details = { summary, histograms: Object.fromEntries(drift.features.map((f) => [f.name, f.histogram])) };
        await ctx.mlflow.uploadArtifact(run.artifactUri, `${dir}/drift.json`, JSON.stringify(details, null, 2), 'application/json');
        await ctx.mlflow.uploadArtifact(run.artifactUri, `${dir}/drift.html`, driftReportHtml(model, summary, drift.features), 'text/html');
        summary.report = `${dir}/drift.html`;
      }
      await ctx.mlflow.logBatch(run.runId, { metrics: cycleMetrics(summary, Date.parse(input.at)) });

      return {
        summary,
        cursors: { championVersion, cycle, feedback: Math.max(cursors.feedback, ...feedback.map((f) => f.feedbackId), ctx.store.maxFeedbackId(model)), predictions: window.maxSeq, counted: ctx.store.maxPredictionSeq(model), detectors },
      };
    },
  };
}

/** Counts and a few examples per feature that had anomalies: small enough for workflow history. */
function compactAnomalies(report: AnomalyReport): MonitoringSummary['anomalies'] {
  const features: MonitoringSummary['anomalies']['features'] = {};
  for (const [name, f] of Object.entries(report.features)) {
    if (f.missing + f.wrongType + f.outOfRange + f.unseenCategory === 0) continue;
    const examples = Object.entries(f.examples).flatMap(([kind, list]) => list.map((e) => `${kind} in row ${e.row}: ${JSON.stringify(e.value)}`));
    features[name] = { missing: f.missing, wrongType: f.wrongType, outOfRange: f.outOfRange, unseenCategory: f.unseenCategory, examples: examples.slice(0, 5) };
  }
  return { rows: report.rows, anomalyRate: finiteOrNull(report.anomalyRate), features };
}

/**
 * Per-feature drift tests: the spec's overrides, else the automatic choice judged at the spec's
 * p-value and distance thresholds (the drift shorthand's pValue, where given, for p-values).
 */
function judgeDrift(spec: ModelSpec, policies: PolicySpec, drift: ReturnType<typeof dataDrift>): ReturnType<typeof dataDrift> {
  const settings = spec.monitoring.drift;
  const pValue = policies.drift?.pValue ?? settings.pValue;
  const features = drift.features.map((f) => {
    if (settings.features[f.name]) return f;
    const threshold = f.pValue !== undefined ? pValue : settings.distance;
    return { ...f, threshold, drifted: f.pValue !== undefined ? f.pValue < threshold : f.statistic >= threshold };
  });
  const drifted = features.filter((f) => f.drifted).map((f) => f.name);
  return { ...drift, features, drifted, driftedShare: features.length ? drifted.length / features.length : 0 };
}

function fairnessOf(
  settings: NonNullable<ModelSpec['monitoring']['fairness']>,
  feedback: Array<{ features: Record<string, unknown> }>,
  resolved: ReturnType<typeof resolveFeedback>,
): MonitoringSummary['fairness'] {
  const groups = resolved.index.map((i) => String(feedback[i].features[settings.column] ?? '(missing)'));
  const report = fairnessReport({ groups, truth: resolved.truth, predicted: resolved.predicted, positiveClass: settings.positiveClass, minGroupSize: settings.minGroupSize });
  const gap = settings.positiveClass ? report.demographicParityDifference : report.accuracyGap;
  return {
    column: settings.column,
    gap: finiteOrNull(gap),
    groups: Object.fromEntries(Object.entries(report.groups).map(([g, m]) => [g, { n: m.n, value: finiteOrNull(settings.positiveClass ? m.positiveRate : m.accuracy) }])),
  };
}

/** The cycle's numbers as MLflow metrics at step = cycle, so the UI charts them over time. */
function cycleMetrics(s: MonitoringSummary, timestamp: number) {
  const values: Record<string, number | null | undefined> = {
    labelled: s.performance.n,
    feedback_accepted: s.performance.implicit.accepted,
    feedback_overridden: s.performance.implicit.overridden,
    accuracy: s.performance.accuracy,
    f1_macro: s.performance.f1Macro,
    precision_macro: s.performance.precisionMacro,
    recall_macro: s.performance.recallMacro,
    log_loss: s.performance.logLoss,
    drifted_features: s.drift.tested ? s.drift.drifted.length : null,
    drifted_share: s.drift.tested ? s.drift.driftedShare : null,
    prediction_drift: s.predictions.classDrift?.jensenShannon,
    mean_confidence: s.predictions.meanConfidence,
    low_confidence_share: s.predictions.lowConfidenceShare,
    anomaly_rate: s.anomalies.anomalyRate,
    new_labels: s.newLabels,
    new_rows: s.newRows,
    fairness_gap: s.fairness?.gap,
    ...Object.fromEntries(Object.entries(s.detectors).map(([name, d]) => [`detector_${name.replace('-', '_')}`, d.drift ? 1 : 0])),
  };
  return Object.entries(values)
    .filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]))
    .map(([key, value]) => ({ key: `monitoring/${key}`, value, step: s.cycle, timestamp }));
}
