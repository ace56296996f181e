/**
 * Store.shadowPairCounts on every store engine: shadow predictions paired with their served twins,
 * counted per shadow version, since a time or a seq, with the twins' feedback since a feedback id.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PredictionLog } from '../../adapters/store/index.ts';
import { STORE_ENGINES } from '../helpers/store-engines.ts';

const CLASSES = ['rain', 'sun'];

function served(id: string, label: string, extra: Partial<PredictionLog> = {}): PredictionLog {
  return {
    id,
    model: 'weather',
    version: '1',
    role: 'champion',
    features: { temp_max: 10 },
    label,
    confidence: 0.7,
    probabilities: Object.fromEntries(CLASSES.map((c) => [c, c === label ? 0.7 : 0.3])),
    ...extra,
  };
}
const shadowOf = (twin: string, label: string, version = '2'): PredictionLog =>
  served(`${twin}-shadow`, label, { version, role: 'shadow', shadowOf: twin });

for (const engine of STORE_ENGINES) {
  describe(engine.name, () => {
    test('a classifier shadow: agreement on every pair, both accuracies on the labelled ones', async () => {
      const store = await engine.open();
      await store.logPredictions([
        served('a', 'rain'),
        shadowOf('a', 'rain'),
        served('b', 'sun'),
        shadowOf('b', 'rain'),
        served('c', 'sun'),
        shadowOf('c', 'sun'),
        served('d', 'rain'),
        shadowOf('d', 'sun'),
        // Not counted: another shadow version, an unshadowed row, a canary's twin, another model.
        served('e', 'rain'),
        shadowOf('e', 'sun', '3'),
        served('f', 'sun'),
        served('g', 'rain', { version: '4', role: 'canary' }),
        shadowOf('g', 'sun'),
        served('h', 'rain', { model: 'other' }),
        { ...shadowOf('h', 'rain'), model: 'other' },
      ]);
      // a: both right; b: truth rain, shadow right; c: accepted (both right); d: overridden without a label (left out).
      await store.addFeedback('a', 'rain');
      const afterA = await store.maxFeedbackId('weather');
      await store.addFeedback('b', 'rain');
      await store.addFeedback('c', { kind: 'accepted' });
      await store.addFeedback('d', { kind: 'overridden' });
      await store.addFeedback('e', 'sun');

      assert.deepEqual(await store.shadowPairCounts('weather', '2', {}), {
        pairs: 4,
        agreed: 2,
        absDifference: 0,
        labelled: { n: 3, shadowCorrect: 3, championCorrect: 2, shadowSquaredError: 0, championSquaredError: 0 },
      });
      // Since a feedback id: labels that arrived later; since a seq: pairs logged later (a's pair is seq 2).
      const since = await store.shadowPairCounts('weather', '2', { afterSeq: 2, afterFeedbackId: afterA });
      assert.deepEqual(
        [since.pairs, since.agreed, since.labelled.n, since.labelled.shadowCorrect, since.labelled.championCorrect],
        [3, 1, 2, 2, 1],
      );
      // Through bounds: a monitoring cycle counts up to its own cursors (b's pair is seq 4, its feedback afterA + 1).
      const upTo = await store.shadowPairCounts('weather', '2', {
        afterSeq: 2,
        throughSeq: 4,
        afterFeedbackId: afterA,
        throughFeedbackId: afterA + 1,
      });
      assert.deepEqual(
        [upTo.pairs, upTo.agreed, upTo.labelled.n, upTo.labelled.shadowCorrect, upTo.labelled.championCorrect],
        [1, 0, 1, 1, 0],
      );
      assert.equal((await store.shadowPairCounts('weather', '9', {})).pairs, 0, 'a version that never shadowed has no pairs');
      assert.equal((await store.shadowPairCounts('weather', '2', { fromTime: '2999-01-01T00:00:00Z' })).pairs, 0);
      await assert.rejects(store.shadowPairCounts('weather', '2', { fromTime: 'yesterday' }), RangeError);
      await store.close();
    });

    test('a regression shadow: absolute differences of the pairs, squared errors against the true values', async () => {
      const store = await engine.open();
      const value = (id: string, v: number, extra: Partial<PredictionLog> = {}): PredictionLog => ({
        ...served(id, String(v), extra),
        task: 'regression',
        confidence: null,
        probabilities: {},
      });
      await store.logPredictions([
        value('a', 10),
        value('a-shadow', 12, { version: '2', role: 'shadow', shadowOf: 'a' }),
        value('b', 5),
        value('b-shadow', 4, { version: '2', role: 'shadow', shadowOf: 'b' }),
      ]);
      // a: truth 11 (shadow off by 1, champion by 1); b: truth 8 (shadow off by 4, champion by 3).
      await store.addFeedback('a', 11);
      await store.addFeedback('b', 8);
      assert.deepEqual(await store.shadowPairCounts('weather', '2', {}), {
        pairs: 2,
        agreed: 0,
        absDifference: 3,
        labelled: { n: 2, shadowCorrect: 0, championCorrect: 0, shadowSquaredError: 17, championSquaredError: 10 },
      });
      await store.close();
    });
  });
}
