/**
 * One monitoring cycle's arithmetic, from what the log holds to a MonitoringSummary. PURE: the
 * monitor activity (activities/monitor.ts) feeds it the log since the previous cycle, and the
 * drift-eval benchmark feeds it simulated windows, so both judge production the same way.
 */
import { detectAnomalies, type AnomalyReport, type ReferenceProfileLike } from './drift/anomalies.ts';
import { dataDrift, featureColumns, type DataDriftReport, type FeatureProfileLike } from './drift/data-drift.ts';
import { createDetector, updateMany, type DetectorKind, type DetectorState } from './drift/detectors.ts';
import { DriftTestError } from './drift/catalogue.ts';
import { imageWindow, pixelNames } from './drift/image.ts';
import { featureDrift } from './drift/feature-drift.ts';
import { classificationReport } from './metrics/classification.ts';
import { fairnessReport } from './metrics/fairness.ts';
import { resolveFeedback, type Feedback } from './metrics/feedback.ts';
import { confidenceReport, predictionDrift } from './metrics/prediction-drift.ts';
import { regressionReport } from './metrics/regression.ts';
import { DETECTORS, type DetectorName, type MonitoringSummary } from './monitoring.ts';
import type { PolicySpec } from './policy.ts';
import type { ImageProfile } from './profile.ts';
import type { ModelSpec } from './spec.ts';
import { isRegression, labelClasses } from './spec-reading.ts';

export type DetectorStates = Record<DetectorName, DetectorState>;

const DETECTOR_KINDS: Record<DetectorName, DetectorKind> = { adwin: 'adwin', ddm: 'ddm', 'page-hinkley': 'pageHinkley' };

/** A champion's detectors before they have seen any error. */
export const freshDetectors = (): DetectorStates =>
  Object.fromEntries(DETECTORS.map((name) => [name, createDetector(DETECTOR_KINDS[name])])) as DetectorStates;

export interface CycleInput {
  spec: ModelSpec;
  policies: PolicySpec;
  cycle: number;
  championVersion: string;
  at: string;
  /** The champion's training profile (ml/bundle.ts ReferenceProfile). */
  profile: ReferenceProfileLike & {
    features: Record<string, FeatureProfileLike>;
    classCounts: Record<string, number>;
    /** A regression model's training labels and training error quantile (ml/bundle.ts ReferenceProfile). */
    target?: { sample: number[] };
    errorThreshold?: number;
    /** Image specs: the training images (absent in profiles from before image profiles, whose pixels are tested one by one). */
    image?: ImageProfile;
  };
  /** The champion's predictions that got feedback since the previous cycle, in feedback order. */
  feedback: Array<{ predicted: string; feedback: Feedback; probabilities: Record<string, number>; features: Record<string, unknown> }>;
  detectors: DetectorStates;
  /** Predictions tested for input drift this cycle (any version), or undefined while too few arrived. */
  window?: Array<{ version: string; features: Record<string, unknown>; label: string; probabilities: Record<string, number> }>;
  /** Predictions waiting for a drift test, when `window` is undefined. */
  pendingRows: number;
  newLabels: number;
  newRows: number;
}

export interface CycleResult {
  summary: MonitoringSummary;
  detectors: DetectorStates;
  /** The full drift report (with histograms) when input drift was tested. */
  drift?: DataDriftReport;
}

const finiteOrNull = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? null : v);

export function summarizeCycle(input: CycleInput): CycleResult {
  const { spec, profile, feedback, window } = input;
  const settings = spec.monitoring;

  const regression = isRegression(spec.label);
  const resolved = resolveFeedback(feedback);
  const classes = labelClasses(spec.label);
  const report = regression
    ? undefined
    : classificationReport({
        truth: resolved.truth,
        predicted: resolved.predicted,
        probabilities: resolved.index.map((i) => feedback[i].probabilities),
        classes,
      });
  const withTruth = report && resolved.truth.length > 0;
  const errorsReport = regression
    ? regressionReport({ truth: resolved.truth.map(Number), predicted: resolved.predicted.map(Number) })
    : undefined;

  // Concept drift: the detectors read the error stream in feedback order. A regression model's
  // prediction is wrong when it is further off than its training error quantile, or overridden.
  const errors: number[] = regression ? regressionErrors(resolved, profile.errorThreshold) : resolved.correct.map((ok) => (ok ? 0 : 1));
  const detectors = {} as DetectorStates;
  const alarms = {} as MonitoringSummary['detectors'];
  for (const name of DETECTORS) {
    const run = updateMany(input.detectors[name], errors);
    detectors[name] = run.state;
    alarms[name] = {
      drift: run.alarms.length > 0,
      warning: run.state.kind === 'ddm' && run.state.warning,
      errors: errors.reduce((a, b) => a + b, 0),
    };
  }

  const rows = window?.map((p) => p.features) ?? [];
  // An image profile tests the pixels as images; a profile from before it, one by one as features.
  const pixels = window && spec.image && profile.image ? pixelNames(spec.features, spec.image) : undefined;
  const image = pixels && profile.image && { pixels, reference: profile.image, current: imageWindow(rows, pixels, profile.image) };
  const isPixel = new Set(pixels);
  const tabular = spec.features.filter((f) => !isPixel.has(f.name));
  const drift =
    window &&
    judgeDrift(
      spec,
      input.policies,
      dataDrift({ columns: featureColumns(rows, tabular), profile, choices: settings.drift.features, image }),
    );
  const anomalies = window && compactAnomalies(detectAnomalies(rows, spec.features, profile));
  const champion = window?.filter((p) => p.version === input.championVersion) ?? [];
  const classDrift =
    champion.length && !regression
      ? predictionDrift({ predicted: champion.map((p) => p.label), classCounts: profile.classCounts, classes })
      : undefined;
  const valueDrift =
    champion.length && regression
      ? predictedValueDrift(
          champion.map((p) => Number(p.label)),
          profile.target?.sample ?? [],
        )
      : undefined;
  const confidence =
    champion.length && !regression
      ? confidenceReport(
          champion.map((p) => p.probabilities),
          settings.confidenceThreshold,
        )
      : undefined;
  const fairness = settings.fairness && resolved.n > 0 ? fairnessOf(settings.fairness, feedback, resolved) : undefined;

  const summary: MonitoringSummary = {
    version: 2,
    at: input.at,
    cycle: input.cycle,
    championVersion: input.championVersion,
    performance: {
      n: resolved.n,
      accuracy: resolved.n > 0 && !regression ? resolved.accuracy : null,
      precisionMacro: withTruth ? report.macro.precision : null,
      recallMacro: withTruth ? report.macro.recall : null,
      f1Macro: withTruth ? report.macro.f1 : null,
      logLoss: report ? finiteOrNull(report.logLoss) : null,
      perClass: !report
        ? {}
        : Object.fromEntries(
            Object.entries(report.perClass).map(([c, m]) => [
              c,
              { precision: m.precision, recall: m.recall, f1: m.f1, support: m.support },
            ]),
          ),
      implicit: {
        accepted: feedback.filter((f) => f.feedback.kind === 'accepted').length,
        overridden: feedback.filter((f) => f.feedback.kind === 'overridden').length,
      },
      ...(errorsReport
        ? {
            regression: {
              n: errorsReport.n,
              mae: finiteOrNull(errorsReport.mae),
              rmse: finiteOrNull(errorsReport.rmse),
              r2: finiteOrNull(errorsReport.r2),
              meanError: finiteOrNull(errorsReport.meanError),
            },
          }
        : {}),
    },
    drift: {
      rows: window ? window.length : input.pendingRows,
      tested: window !== undefined,
      features:
        drift?.features.map((f) => ({
          name: f.name,
          test: f.test,
          statistic: f.statistic,
          pValue: f.pValue,
          threshold: f.threshold,
          drifted: f.drifted,
        })) ?? [],
      drifted: drift?.drifted ?? [],
      driftedShare: drift?.driftedShare ?? 0,
      skipped: drift?.skipped ?? [],
    },
    predictions: {
      n: champion.length,
      classDrift: classDrift ? { jensenShannon: classDrift.jensenShannon, linf: classDrift.linf } : null,
      ...(regression ? { valueDrift: valueDrift ?? null } : {}),
      meanConfidence: finiteOrNull(confidence?.meanMaxProbability),
      lowConfidenceShare: finiteOrNull(confidence?.lowConfidenceShare),
    },
    anomalies: anomalies ?? { rows: 0, anomalyRate: null, features: {} },
    detectors: alarms,
    newLabels: input.newLabels,
    newRows: input.newRows,
    ...(fairness ? { fairness } : {}),
  };
  return { summary, detectors, drift };
}

/** Per feedback item of a regression model: 1 when its true value is unknown (overridden) or further than `threshold` from the prediction. */
function regressionErrors(resolved: ReturnType<typeof resolveFeedback>, threshold: number | undefined): number[] {
  if (threshold === undefined) return []; // a profile from before regression models: nothing to judge by
  const errors: number[] = Array(resolved.n).fill(1);
  resolved.index.forEach(
    (item, k) => (errors[item] = Math.abs(Number(resolved.truth[k]) - Number(resolved.predicted[k])) > threshold ? 1 : 0),
  );
  return errors;
}

/** A regression model's predicted numbers against its training labels, with the automatic numeric test; null when either side is empty. */
function predictedValueDrift(predicted: number[], trainingLabels: number[]): MonitoringSummary['predictions']['valueDrift'] {
  try {
    const r = featureDrift({ kind: 'number', reference: trainingLabels, current: predicted });
    return { test: r.test, statistic: r.statistic, pValue: r.pValue ?? null, drifted: r.drifted };
  } catch (err) {
    if (err instanceof DriftTestError) return null;
    throw err;
  }
}

/**
 * Per-feature drift: the spec's overrides as they are; the automatic choice judged at the spec's
 * p-value and distance thresholds (the drift shorthand's pValue, where given, for p-values).
 */
function judgeDrift(spec: ModelSpec, policies: PolicySpec, drift: DataDriftReport): DataDriftReport {
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

/** Counts and a few examples per feature that had anomalies: small enough for workflow history. */
function compactAnomalies(report: AnomalyReport): MonitoringSummary['anomalies'] {
  const features: MonitoringSummary['anomalies']['features'] = {};
  for (const [name, f] of Object.entries(report.features)) {
    if (f.missing + f.wrongType + f.outOfRange + f.unseenCategory === 0) continue;
    const examples = Object.entries(f.examples).flatMap(([kind, list]) =>
      list.map((e) => `${kind} in row ${e.row}: ${JSON.stringify(e.value)}`),
    );
    features[name] = {
      missing: f.missing,
      wrongType: f.wrongType,
      outOfRange: f.outOfRange,
      unseenCategory: f.unseenCategory,
      examples: examples.slice(0, 5),
    };
  }
  return { rows: report.rows, anomalyRate: finiteOrNull(report.anomalyRate), features };
}

function fairnessOf(
  settings: NonNullable<ModelSpec['monitoring']['fairness']>,
  feedback: CycleInput['feedback'],
  resolved: ReturnType<typeof resolveFeedback>,
): MonitoringSummary['fairness'] {
  const groups = resolved.index.map((i) => String(feedback[i].features[settings.column] ?? '(missing)'));
  const report = fairnessReport({
    groups,
    truth: resolved.truth,
    predicted: resolved.predicted,
    positiveClass: settings.positiveClass,
    minGroupSize: settings.minGroupSize,
  });
  const gap = settings.positiveClass ? report.demographicParityDifference : report.accuracyGap;
  return {
    column: settings.column,
    gap: finiteOrNull(gap),
    groups: Object.fromEntries(
      Object.entries(report.groups).map(([g, m]) => [
        g,
        { n: m.n, value: finiteOrNull(settings.positiveClass ? m.positiveRate : m.accuracy) },
      ]),
    ),
  };
}
