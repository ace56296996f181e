/**
 * CBPE (./cbpe.ts) for a served classifier: the calibration a model version carries from its
 * retrain (`cbpe.json` on its MLflow run, fitted on the holdout it was evaluated on), and the
 * estimated accuracy of its logged predictions, which carry class names and probability maps
 * rather than the index vectors cbpe.ts takes.
 *
 * PURE module: no Node, tfjs or npm imports.
 */
import type { EstimatedPerformance } from '../monitoring.ts';
import { calibrateCbpe, estimatedAccuracy, type CbpeCalibration } from './cbpe.ts';

/** Where a model version's calibration lives: an artifact at the root of its MLflow run. */
export const CBPE_ARTIFACT = 'cbpe.json';

/** The content of cbpe.json: plain JSON. */
export interface CbpeArtifact {
  format: 1;
  /** The model's classes in its output order: the calibration's class indices. */
  classes: string[];
  /** The holdout the calibration was fitted on: its rows, realised accuracy, and CBPE's estimate on it. */
  holdout: { rows: number; accuracy: number; estimatedAccuracy: number };
  calibration: CbpeCalibration;
}

/**
 * A calibration from a model's holdout: `probabilities` row-major [rows x classes] in `classes`
 * order, `labels` the true class names. Rows whose label is not one of the classes are left out.
 * RangeError when no row is left (cbpe.ts calibrateCbpe).
 */
export function cbpeArtifact(classes: readonly string[], probabilities: ArrayLike<number>, labels: readonly string[]): CbpeArtifact {
  const index = new Map(classes.map((c, i) => [c, i] as const));
  const k = classes.length;
  const rows: number[][] = [];
  const truth: number[] = [];
  labels.forEach((label, i) => {
    const t = index.get(label);
    if (t === undefined) return;
    rows.push(Array.from({ length: k }, (_, c) => probabilities[i * k + c]));
    truth.push(t);
  });
  const calibration = calibrateCbpe(rows, truth);
  const predicted = rows.map(argmax);
  return {
    format: 1,
    classes: [...classes],
    holdout: {
      rows: rows.length,
      accuracy: predicted.filter((p, i) => p === truth[i]).length / rows.length,
      estimatedAccuracy: estimatedAccuracy(calibration, rows, predicted),
    },
    calibration,
  };
}

/** cbpe.json's text, checked; throws an Error naming what is wrong. */
export function readCbpeArtifact(text: string): CbpeArtifact {
  const a = JSON.parse(text) as Partial<CbpeArtifact>;
  const fail = (what: string) => {
    throw new Error(`${CBPE_ARTIFACT}: ${what}`);
  };
  if (a.format !== 1) fail(`unknown format ${JSON.stringify(a.format)}`);
  if (!Array.isArray(a.classes) || a.classes.length < 2) fail('classes must list at least two classes');
  const c = a.calibration;
  if (!c || c.classes !== a.classes!.length) fail('calibration.classes must equal the number of classes');
  const fits = c!.fits;
  if (!Array.isArray(fits) || fits.length !== (c!.classes === 2 ? 1 : c!.classes)) fail('calibration.fits has the wrong length');
  for (const fit of fits) if (!Array.isArray(fit.x) || !Array.isArray(fit.y) || fit.x.length !== fit.y.length) fail('a fit needs x and y');
  return a as CbpeArtifact;
}

/** A logged prediction: its predicted class and its probability per class. */
export interface LoggedClassPrediction {
  label: string;
  probabilities: Record<string, number>;
}

/**
 * CBPE's expected accuracy of these predictions, and how many it was estimated on: those whose
 * predicted class and every class's probability are known to the calibration (others are left
 * out). Accuracy null when none are.
 */
export function estimateLogged(
  artifact: CbpeArtifact,
  predictions: readonly LoggedClassPrediction[],
): { accuracy: number | null; n: number } {
  const index = new Map(artifact.classes.map((c, i) => [c, i] as const));
  const rows: number[][] = [];
  const predicted: number[] = [];
  for (const p of predictions) {
    const k = index.get(p.label);
    const row = artifact.classes.map((c) => p.probabilities[c]);
    if (k === undefined || row.some((v) => typeof v !== 'number' || !Number.isFinite(v))) continue;
    rows.push(row);
    predicted.push(k);
  }
  return { accuracy: rows.length ? estimatedAccuracy(artifact.calibration, rows, predicted) : null, n: rows.length };
}

/**
 * A monitoring cycle's estimate (core/monitoring.ts `estimated`): on the champion's predictions
 * served since the previous cycle, and on those labelled this cycle. `artifact` undefined: the
 * champion has no calibration (trained before CBPE), said in the note.
 */
export function estimatedPerformance(
  artifact: CbpeArtifact | undefined,
  championVersion: string,
  served: readonly LoggedClassPrediction[],
  labelled: readonly LoggedClassPrediction[],
): EstimatedPerformance {
  if (!artifact)
    return {
      accuracy: null,
      n: 0,
      onLabelled: null,
      note: `v${championVersion} has no CBPE calibration (${CBPE_ARTIFACT}): it was trained before calibration at retrain`,
    };
  const window = estimateLogged(artifact, served);
  return {
    accuracy: window.accuracy,
    n: window.n,
    onLabelled: estimateLogged(artifact, labelled).accuracy,
    ...(window.accuracy === null ? { note: 'no predictions of the champion since the previous cycle' } : {}),
  };
}

function argmax(row: readonly number[]): number {
  let best = 0;
  for (let c = 1; c < row.length; c++) if (row[c] > row[best]) best = c;
  return best;
}
