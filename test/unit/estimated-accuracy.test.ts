/**
 * The label-free accuracy estimate of a served classifier: its calibration file
 * (core/estimation/champion-estimate.ts) against cbpe.ts on the same numbers, the estimate of
 * logged predictions, the monitoring summary's `estimated` block, and `estimated_accuracy` in
 * policies and specs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { parseSpec } from '../../client/spec-file.ts';
import { calibrateCbpe, estimatedAccuracy } from '../../core/estimation/cbpe.ts';
import { cbpeArtifact, estimatedPerformance, estimateLogged, readCbpeArtifact } from '../../core/estimation/champion-estimate.ts';
import { LABEL_METRICS, metricValue, type EstimatedPerformance, type MonitoringSummary } from '../../core/monitoring.ts';
import { evaluatePolicies, initialPolicyState, PolicySpec } from '../../core/policy.ts';
import { MonitoringGauges } from '../../worker/metrics.ts';

// Three classes, six holdout rows, row-major probabilities in class order.
const CLASSES = ['rain', 'sun', 'fog'];
const HOLDOUT = [
  [0.7, 0.2, 0.1],
  [0.6, 0.3, 0.1],
  [0.2, 0.7, 0.1],
  [0.1, 0.8, 0.1],
  [0.3, 0.3, 0.4],
  [0.5, 0.4, 0.1],
];
const TRUTH = ['rain', 'sun', 'sun', 'sun', 'fog', 'sun'];

describe('calibration file', () => {
  it('is cbpe.ts on the class indices, with the holdout accuracy and the estimate on it', () => {
    const artifact = cbpeArtifact(CLASSES, HOLDOUT.flat(), TRUTH);
    const labels = TRUTH.map((t) => CLASSES.indexOf(t));
    assert.deepEqual(artifact.calibration, calibrateCbpe(HOLDOUT, labels));
    // Predicted: rain, rain, sun, sun, fog, rain; right: rows 0, 2, 3, 4.
    assert.equal(artifact.holdout.accuracy, 4 / 6);
    assert.equal(artifact.holdout.rows, 6);
    assert.equal(artifact.holdout.estimatedAccuracy, estimatedAccuracy(artifact.calibration, HOLDOUT, [0, 0, 1, 1, 2, 0]));
    assert.deepEqual(readCbpeArtifact(JSON.stringify(artifact)), artifact);
  });

  it('leaves out rows of an unknown class, and refuses a holdout without any known one', () => {
    const artifact = cbpeArtifact(CLASSES, [...HOLDOUT.flat(), 0.1, 0.1, 0.8], [...TRUTH, 'snow']);
    assert.equal(artifact.holdout.rows, 6);
    assert.throws(() => cbpeArtifact(CLASSES, HOLDOUT[0], ['snow']), RangeError);
  });

  it('a damaged file is an error naming what is wrong', () => {
    const good = cbpeArtifact(CLASSES, HOLDOUT.flat(), TRUTH);
    assert.throws(() => readCbpeArtifact(JSON.stringify({ ...good, format: 2 })), /cbpe\.json: unknown format 2/);
    assert.throws(() => readCbpeArtifact(JSON.stringify({ ...good, classes: ['a', 'b'] })), /calibration\.classes must equal/);
    const fits = good.calibration.fits.slice(1);
    assert.throws(
      () => readCbpeArtifact(JSON.stringify({ ...good, calibration: { ...good.calibration, fits } })),
      /calibration\.fits has the wrong length/,
    );
  });
});

describe('estimate of logged predictions', () => {
  const artifact = cbpeArtifact(CLASSES, HOLDOUT.flat(), TRUTH);
  const logged = (row: number[]) => ({
    label: CLASSES[row.indexOf(Math.max(...row))],
    probabilities: Object.fromEntries(CLASSES.map((c, k) => [c, row[k]])),
  });

  it('maps class names to the calibration order, whatever order the probability map has', () => {
    const window = [[0.8, 0.1, 0.1], [0.1, 0.2, 0.7], HOLDOUT[2]];
    const shuffled = window
      .map(logged)
      .map((p) => ({ ...p, probabilities: { fog: p.probabilities.fog, sun: p.probabilities.sun, rain: p.probabilities.rain } }));
    const expected = estimatedAccuracy(artifact.calibration, window, [0, 2, 1]);
    assert.deepEqual(estimateLogged(artifact, shuffled), { accuracy: expected, n: 3 });
  });

  it('skips predictions of an unknown class or with a missing probability; none left is null', () => {
    const known = logged([0.8, 0.1, 0.1]);
    const unknown = { label: 'snow', probabilities: { rain: 0.5, sun: 0.5, fog: 0 } };
    const missing = { label: 'rain', probabilities: { rain: 0.9, sun: 0.1 } };
    assert.equal(estimateLogged(artifact, [known, unknown, missing]).n, 1);
    assert.deepEqual(estimateLogged(artifact, [unknown, missing]), { accuracy: null, n: 0 });
  });

  it('a cycle: the window and the labelled predictions; without a calibration or traffic, a note says why', () => {
    const served = [logged([0.8, 0.1, 0.1]), logged([0.1, 0.2, 0.7])];
    const labelled = [logged(HOLDOUT[1])];
    assert.deepEqual(estimatedPerformance(artifact, '3', served, labelled), {
      accuracy: estimateLogged(artifact, served).accuracy,
      n: 2,
      onLabelled: estimateLogged(artifact, labelled).accuracy,
    });
    assert.deepEqual(estimatedPerformance(artifact, '3', [], []), {
      accuracy: null,
      n: 0,
      onLabelled: null,
      note: 'no predictions of the champion since the previous cycle',
    });
    assert.deepEqual(estimatedPerformance(undefined, '1', served, labelled), {
      accuracy: null,
      n: 0,
      onLabelled: null,
      note: 'v1 has no CBPE calibration (cbpe.json): it was trained before calibration at retrain',
    });
  });
});

function summary(estimated?: EstimatedPerformance): MonitoringSummary {
  const detector = { drift: false, warning: false, errors: 0 };
  return {
    version: 2,
    at: '2026-01-01T00:00:00Z',
    cycle: 1,
    championVersion: '1',
    performance: {
      n: 0,
      accuracy: null,
      precisionMacro: null,
      recallMacro: null,
      f1Macro: null,
      logLoss: null,
      perClass: {},
      implicit: { accepted: 0, overridden: 0 },
    },
    drift: { rows: 0, tested: false, features: [], drifted: [], driftedShare: 0, skipped: [] },
    predictions: { n: 0, classDrift: null, meanConfidence: null, lowConfidenceShare: null },
    anomalies: { rows: 0, anomalyRate: null, features: {} },
    detectors: { adwin: detector, ddm: detector, 'page-hinkley': detector },
    newLabels: 0,
    newRows: 500,
    ...(estimated ? { estimated } : {}),
  };
}

describe('estimated_accuracy in policies', () => {
  const clock = { nowMs: 0 };

  it('a spec rule `{ metric: estimated_accuracy, below: 0.8 }` parses and fires with no label at all', () => {
    const spec = parseSpec(
      parseYaml(`
name: weather
features: [{ name: temp_max }]
label: { name: weather, classes: [rain, sun] }
policies:
  rules:
    - name: estimate
      when: { metric: estimated_accuracy, below: 0.8 }
`),
    );
    assert.equal(LABEL_METRICS.includes('estimated_accuracy'), false, 'not a label metric: minLabels does not apply');
    const v = evaluatePolicies(spec.policies, summary({ accuracy: 0.71, n: 480, onLabelled: null }), initialPolicyState(), clock);
    assert.equal(v.fire, true);
    assert.deepEqual(v.fired, [
      {
        rule: 'estimate',
        reason: 'estimate: estimated_accuracy 0.71 < 0.8 (CBPE) on 480 predictions',
        values: { estimated_accuracy: 0.71 },
      },
    ]);
    const fine = evaluatePolicies(spec.policies, summary({ accuracy: 0.85, n: 480, onLabelled: null }), initialPolicyState(), clock);
    assert.equal(fine.fire, false);
  });

  it('not estimated is not measured: the note says why, and the cycle counts neither way', () => {
    const policies = PolicySpec.parse({ rules: [{ name: 'estimate', when: { metric: 'estimated_accuracy', below: 0.8 } }] });
    const none = estimatedPerformance(undefined, '1', [], []);
    const v = evaluatePolicies(policies, summary(none), initialPolicyState(), clock);
    assert.equal(v.fire, false);
    assert.deepEqual(v.notes, [
      'estimate: estimated_accuracy not measured this cycle: v1 has no CBPE calibration (cbpe.json): it was trained before calibration at retrain',
    ]);
    assert.equal(metricValue(summary(), 'estimated_accuracy', clock), null, 'a summary from before CBPE');
  });

  it('a misspelt metric is refused, naming the known ones', () => {
    const bad = PolicySpec.safeParse({ rules: [{ name: 'e', when: { metric: 'estimated_acuracy', below: 0.8 } }] });
    assert.equal(bad.success, false);
    assert.match(JSON.stringify(bad.error!.issues), /estimated_accuracy/);
  });
});

describe('estimated_accuracy on the worker /metrics', () => {
  it('a gauge next to accuracy, kept through cycles that estimate nothing', async () => {
    const gauges = new MonitoringGauges();
    gauges.record('weather', summary({ accuracy: 0.71, n: 480, onLabelled: null }));
    gauges.record(
      'weather',
      summary({ accuracy: null, n: 0, onLabelled: null, note: 'no predictions of the champion since the previous cycle' }),
    );
    assert.match(await gauges.registry.metrics(), /^perennial_monitoring_estimated_accuracy\{model="weather"\} 0\.71$/m);
  });
});
