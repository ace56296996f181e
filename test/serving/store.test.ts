/**
 * The Store contract (adapters/store/store.ts), run against every engine in STORE_ENGINES. What
 * only one engine's storage shows (SQLite's migrations, its file shared between processes) is
 * in sqlite-store.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../../adapters/store/index.ts';
import { FeedbackConflictError, LabelTypeError, UnknownLabelError, UnknownPredictionError } from '../../core/errors.ts';
import { prediction, valuePrediction } from '../helpers/logged-predictions.ts';
import { STORE_ENGINES } from '../helpers/store-engines.ts';

for (const engine of STORE_ENGINES) {
  describe(engine.name, () => {
    test("training windows by days (as of a time) and since the champion's data", async () => {
      let now = new Date('2026-03-01T00:00:00Z');
      const store = await engine.open({ now: () => now });
      const day = (x: number) => [{ features: { x }, label: 'rain', source: 'upload' }];
      await store.addRecords('weather', day(1)); // March 1
      now = new Date('2026-03-10T00:00:00Z');
      await store.addRecords('weather', day(10));
      const championTrainedThrough = await store.maxRecordId('weather');
      now = new Date('2026-03-20T00:00:00Z');
      await store.addRecords('weather', day(20));

      const x = async (window: Parameters<Store['readRecords']>[1], at?: Parameters<Store['readRecords']>[2]) =>
        (await store.readRecords('weather', window, at)).map((r) => r.features.x);
      assert.deepEqual(await x({ kind: 'lastDays', days: 10 }), [10, 20], 'the last 10 days before now (March 20)');
      assert.deepEqual(
        await x({ kind: 'lastDays', days: 10 }, { asOf: '2026-03-15T00:00:00Z' }),
        [10, 20],
        'as of March 15: March 5 onwards',
      );
      assert.deepEqual(await x({ kind: 'lastDays', days: 1.5 }, { asOf: '2026-03-11T00:00:00Z' }), [10, 20]);
      assert.deepEqual(await x({ kind: 'lastDays', days: 30 }), [1, 10, 20]);
      assert.deepEqual(await x({ kind: 'sinceChampion' }, { championTrainedThrough }), [20]);
      assert.deepEqual(await x({ kind: 'sinceChampion' }), [1, 10, 20], 'no champion yet: everything');
      await store.close();
    });

    /** The log's tables before feedback kinds (and every later migration): the oldest schema a store must open. */

    test('records: windows read in arrival order, counted per model, watermarks by id', async () => {
      const store = await engine.open();
      const rows = (n: number, label: string) => Array.from({ length: n }, (_, i) => ({ features: { x: i }, label, source: 'upload' }));

      assert.equal(await store.maxRecordId('weather'), 0);
      assert.equal(await store.addRecords('weather', rows(5, 'rain')), 5);
      await store.addRecords('other', rows(2, 'sun'));
      const mark = await store.maxRecordId('weather');
      assert.equal(await store.addRecords('weather', rows(3, 'sun')), 3);

      const all = await store.readRecords('weather', { kind: 'all' });
      assert.equal(all.length, 8);
      assert.deepEqual(
        all.map((r) => r.id),
        [...all.map((r) => r.id)].sort((a, b) => a - b),
      );
      assert.deepEqual(all[0], { id: 1, features: { x: 0 }, label: 'rain', source: 'upload' });

      const last = await store.readRecords('weather', { kind: 'lastRows', rows: 4 });
      assert.deepEqual(
        last.map((r) => [r.label, r.features.x]),
        [
          ['rain', 4],
          ['sun', 0],
          ['sun', 1],
          ['sun', 2],
        ],
      );
      assert.equal((await store.readRecords('weather', { kind: 'lastRows', rows: 100 })).length, 8);

      assert.equal(await store.countRecordsSince('weather', mark), 3);
      assert.equal(await store.countRecordsSince('weather', await store.maxRecordId('weather')), 0);
      assert.equal((await store.readRecords('other', { kind: 'all' })).length, 2);
      await store.close();
    });

    test('feedback: unknown id, idempotent repeat, conflicting relabel, unknown class, wrong model', async () => {
      const store = await engine.open();
      await store.logPredictions([prediction('p1', 'rain'), prediction('p2', 'sun')]);

      await assert.rejects(store.addFeedback('nope', 'rain'), UnknownPredictionError);
      await assert.rejects(store.addFeedback('p1', 'rain', 'other-model'), UnknownPredictionError);
      await assert.rejects(store.addFeedback('p1', 'snow'), (err: unknown) => {
        assert.ok(err instanceof UnknownLabelError);
        assert.match(err.message, /not one of the model's classes: rain, sun/);
        return true;
      });

      const first = await store.addFeedback('p1', 'sun', 'weather');
      assert.equal(await store.addFeedback('p1', 'sun'), first, 'the same feedback twice returns the same row');
      await assert.rejects(store.addFeedback('p1', 'rain'), (err: unknown) => {
        assert.ok(err instanceof FeedbackConflictError);
        assert.equal(err.status, 409);
        assert.match(err.message, /already labelled "sun"/);
        return true;
      });

      // Ground truth became exactly one training record carrying the prediction's features.
      const records = await store.readRecords('weather', { kind: 'all' });
      assert.deepEqual(
        records.map(({ features, label, source }) => ({ features, label, source })),
        [{ features: { temp_max: 10, wind: null }, label: 'sun', source: 'feedback:anonymous' }],
      );
      assert.equal(await store.maxFeedbackId('weather'), first);
      await store.close();
    });

    test('feedback batches are all or nothing', async () => {
      const store = await engine.open();
      await store.logPredictions([prediction('a', 'rain'), prediction('b', 'rain')]);
      await assert.rejects(
        store.addFeedbackMany([
          { predictionId: 'a', label: 'rain' },
          { predictionId: 'missing', label: 'rain' },
        ]),
        UnknownPredictionError,
      );
      assert.equal(await store.maxFeedbackId('weather'), 0);
      assert.equal(await store.maxRecordId('weather'), 0);

      const ids = await store.addFeedbackMany([
        { predictionId: 'a', label: 'rain' },
        { predictionId: 'b', label: 'sun' },
      ]);
      assert.equal(ids.length, 2);
      assert.deepEqual(
        (await store.labelledSince('weather', 0)).map(({ version, role, predicted, truth }) => ({ version, role, predicted, truth })),
        [
          { version: '1', role: 'champion', predicted: 'rain', truth: 'rain' },
          { version: '1', role: 'champion', predicted: 'rain', truth: 'sun' },
        ],
      );
      assert.deepEqual(
        (await store.labelledSince('weather', ids[0])).map((l) => l.feedbackId),
        [ids[1]],
      );
      await store.close();
    });

    test('recent predictions are the last N, oldest first, of that model only', async () => {
      const store = await engine.open();
      await store.logPredictions(
        Array.from({ length: 10 }, (_, i) => prediction(`p${i}`, 'rain', { features: { i }, version: String(i % 2) })),
      );
      await store.logPredictions([prediction('x', 'sun', { model: 'other' })]);
      const recent = await store.recentPredictions('weather', 3);
      assert.deepEqual(
        recent.map((r) => r.features.i),
        [7, 8, 9],
      );
      assert.deepEqual(recent[2], { features: { i: 9 }, label: 'rain', confidence: 0.7, version: '1' });
      await store.close();
    });

    test('live accuracy counts labelled predictions per version made at or after the given time', async () => {
      let clock = new Date('2030-01-01T00:00:00.000Z');
      const store = await engine.open({ now: () => clock });
      await store.logPredictions([prediction('old', 'rain', { version: '1' })]);

      clock = new Date('2030-01-01T01:00:00.000Z');
      await store.logPredictions([
        prediction('c1', 'rain', { version: '1' }),
        prediction('c2', 'sun', { version: '1' }),
        prediction('k1', 'sun', { version: '2', role: 'canary' }),
        prediction('k2', 'sun', { version: '2', role: 'canary' }),
        prediction('unlabelled', 'sun', { version: '2', role: 'canary' }),
      ]);
      for (const [id, truth] of [
        ['old', 'rain'],
        ['c1', 'rain'],
        ['c2', 'rain'],
        ['k1', 'sun'],
        ['k2', 'sun'],
      ]) {
        await store.addFeedback(id, truth);
      }

      // A non-UTC spelling of the same instant must select the same rows.
      assert.deepEqual(await store.liveAccuracy('weather', '2030-01-01T02:00:00+01:00'), {
        '1': { n: 2, correct: 1 },
        '2': { n: 2, correct: 2 },
      });
      assert.deepEqual((await store.liveAccuracy('weather', '2029-12-31T00:00:00Z'))['1'], { n: 3, correct: 2 });
      assert.deepEqual(await store.liveAccuracy('weather', '2030-01-02T00:00:00Z'), {});
      await assert.rejects(store.liveAccuracy('weather', 'yesterday'), RangeError);
      await store.close();
    });

    test("two stores on one database see each other's writes, deployments included", async () => {
      const open = await engine.newDatabase();
      const server = await open();
      const worker = await open(); // opening again must not trip over the existing schema
      await server.logPredictions([prediction('p', 'rain')]);
      await worker.addFeedback('p', 'rain');
      assert.equal(await server.maxFeedbackId('weather'), 1);
      assert.equal((await server.readRecords('weather', { kind: 'all' }))[0].source, 'feedback:anonymous', 'sent without an API key');

      assert.equal(await worker.getDeployment('weather'), undefined);
      const state = {
        champion: { version: '3' },
        canary: { version: '4', weight: 0.2 },
        updatedAt: '2030-01-01T00:00:00.000Z',
        reason: 'canary',
      };
      await server.setDeployment('weather', state);
      assert.deepEqual(await worker.getDeployment('weather'), state);
      await worker.setDeployment('weather', { champion: { version: '4' }, updatedAt: '2030-01-01T00:05:00.000Z', reason: 'promote' });
      await server.setDeployment('alpha', { champion: { version: '1' }, updatedAt: '2030-01-01T00:00:00.000Z', reason: 'first' });
      assert.deepEqual(
        (await server.listDeployments()).map((d) => [d.model, d.champion.version, d.canary]),
        [
          ['alpha', '1', undefined],
          ['weather', '4', undefined],
        ],
      );
      await server.close();
      await worker.close();
    });

    test('a regression prediction is logged as its number in text, with no probabilities or confidence', async () => {
      const store = await engine.open();
      await store.logPredictions([valuePrediction('r1', 12.5), prediction('c1', 'rain', { model: 'house' })]);
      const { rows } = await store.predictionsSince('house', 0, 10);
      assert.deepEqual(
        rows.map(({ label, probabilities }) => ({ label, probabilities })),
        [
          { label: '12.5', probabilities: {} },
          { label: 'rain', probabilities: { rain: 0.7, sun: 0.3 } },
        ],
      );
      assert.deepEqual(
        (await store.recentPredictions('house', 2)).map((r) => r.confidence),
        [null, 0.7],
      );
      await store.close();
    });

    test("feedback on a regression prediction: a finite number or numeric text, kept as the number's text", async () => {
      const store = await engine.open();
      await store.logPredictions([
        valuePrediction('a', 12.5),
        valuePrediction('b', 7),
        valuePrediction('c', 3.25),
        valuePrediction('d', 100),
        valuePrediction('e', 1),
      ]);

      const first = await store.addFeedback('a', 13.75, 'house');
      for (const same of ['13.75', ' 13.750 ', 13.75, '1.375e1'])
        assert.equal(await store.addFeedback('a', same), first, `${JSON.stringify(same)} is the same label`);
      await assert.rejects(store.addFeedback('a', '14'), (err: unknown) => {
        assert.ok(err instanceof FeedbackConflictError);
        assert.equal(err.message, 'prediction a is already labelled "13.75"; refusing to relabel it "14"');
        return true;
      });

      for (const bad of ['warm', '1,5', 'Infinity', '0x10', '']) {
        await assert.rejects(store.addFeedback('b', bad), (err: unknown) => {
          assert.ok(err instanceof LabelTypeError, String(err));
          assert.equal(err.status, 400);
          assert.equal(err.code, 'wrong_label_type');
          assert.equal(
            err.message,
            `label ${JSON.stringify(bad)} for prediction b is not a number; the prediction is a regression model's, whose labels are finite numbers (a JSON number or a numeric string)`,
          );
          return true;
        });
      }
      await assert.rejects(store.addFeedback('b', Infinity), LabelTypeError);
      await assert.rejects(store.addFeedback('b', { kind: 'label' }), /label \(none\) for prediction b is not a number/);

      // Accepted: the predicted value was the truth. Overridden: a corrected value, or none.
      await store.addFeedbackMany([
        { predictionId: 'b', kind: 'accepted' },
        { predictionId: 'c', kind: 'overridden', label: '-2' },
        { predictionId: 'd', kind: 'overridden' },
      ]);
      await assert.rejects(store.addFeedback('e', { kind: 'overridden', label: 'less' }), LabelTypeError);

      assert.deepEqual(
        (await store.feedbackSince('house', 0)).map((f) => [f.predicted, f.feedback, f.probabilities]),
        [
          ['12.5', { kind: 'label', label: '13.75' }, {}],
          ['7', { kind: 'accepted' }, {}],
          ['3.25', { kind: 'overridden', label: '-2' }, {}],
          ['100', { kind: 'overridden' }, {}],
        ],
      );
      assert.deepEqual(
        (await store.labelledSince('house', 0)).map(({ predicted, truth }) => [predicted, truth]),
        [
          ['12.5', '13.75'],
          ['7', '7'],
          ['3.25', '-2'],
        ],
      );
      assert.deepEqual(
        (await store.readRecords('house', { kind: 'all' })).map(({ features, label, source }) => ({ features, label, source })),
        [
          { features: { rooms: 3 }, label: '13.75', source: 'feedback:anonymous' },
          { features: { rooms: 3 }, label: '7', source: 'feedback:anonymous' },
          { features: { rooms: 3 }, label: '-2', source: 'feedback:anonymous' },
        ],
      );
      await store.close();
    });

    test("a classifier's feedback label is a class name: a JSON number is refused, not taken for a class", async () => {
      const store = await engine.open();
      await store.logPredictions([prediction('p', 'rain', { probabilities: { '0': 0.3, '1': 0.7 }, label: '1' })]);
      await assert.rejects(store.addFeedback('p', 1), (err: unknown) => {
        assert.ok(err instanceof LabelTypeError);
        assert.equal(
          err.message,
          "label 1 for prediction p is a number; the prediction is a classifier's, whose labels are class names as strings: 0, 1",
        );
        return true;
      });
      assert.equal(await store.maxFeedbackId('weather'), 0);
      assert.equal(typeof (await store.addFeedback('p', '1')), 'number');
      await store.close();
    });

    test('live errors of a regression model per version: MAE and RMSE of the predictions with a known value', async () => {
      let clock = new Date('2030-01-01T00:00:00.000Z');
      const store = await engine.open({ now: () => clock });
      await store.logPredictions([valuePrediction('old', 10)]);
      clock = new Date('2030-01-01T01:00:00.000Z');
      await store.logPredictions([
        valuePrediction('c1', 10),
        valuePrediction('c2', 20),
        valuePrediction('c3', 30),
        valuePrediction('k1', 5, { version: '2', role: 'canary' }),
        valuePrediction('k2', 5, { version: '2', role: 'canary' }),
        valuePrediction('unlabelled', 5, { version: '2', role: 'canary' }),
      ]);
      await store.addFeedbackMany([
        { predictionId: 'old', label: 1000 },
        { predictionId: 'c1', label: 13 }, // error 3
        { predictionId: 'c2', label: '16' }, // error 4
        { predictionId: 'c3', kind: 'accepted' }, // error 0
        { predictionId: 'k1', kind: 'overridden' }, // wrong, by an unknown amount: left out
        { predictionId: 'k2', kind: 'overridden', label: 7.5 }, // error 2.5
      ]);
      // Version 1: MAE (3 + 4 + 0) / 3 = 7/3; RMSE sqrt((9 + 16 + 0) / 3) = sqrt(25/3).
      const live = await store.liveErrors('house', '2030-01-01T00:30:00Z');
      assert.deepEqual(Object.keys(live).sort(), ['1', '2']);
      assert.equal(live['1'].n, 3);
      assert.ok(Math.abs(live['1'].mae - 7 / 3) < 1e-12 && Math.abs(live['1'].rmse - Math.sqrt(25 / 3)) < 1e-12, JSON.stringify(live['1']));
      // Squared errors 9, 16, 0: mean 25/3, Σ(se - mean)² = 81 + 256 + 0 - 3·(25/3)² = 386/3.
      assert.ok(
        Math.abs(live['1'].squaredErrors.mean - 25 / 3) < 1e-12 && Math.abs(live['1'].squaredErrors.m2 - 386 / 3) < 1e-9,
        JSON.stringify(live['1']),
      );
      assert.deepEqual(live['2'], { n: 1, mae: 2.5, rmse: 2.5, squaredErrors: { n: 1, mean: 6.25, m2: 0 } });
      assert.equal((await store.liveErrors('house', '2029-12-31T00:00:00Z'))['1'].n, 4, 'the old prediction counts from earlier on');
      assert.deepEqual(await store.liveErrors('house', '2030-01-02T00:00:00Z'), {});
      await assert.rejects(store.liveErrors('house', 'yesterday'), RangeError);
      await store.close();
    });

    test('API keys: only hashes stored, names unique per model, a revoked key stops working but keys stay required', async () => {
      const store = await engine.open();
      assert.equal(await store.requiresApiKey('weather'), false);
      assert.equal(await store.addApiKey('weather', 'crm', 'hash-1'), true);
      assert.equal(await store.addApiKey('weather', 'crm', 'hash-2'), false, 'a name is taken');
      assert.equal(await store.addApiKey('house', 'crm', 'hash-3'), true, 'names are per model');
      assert.equal(await store.apiKeyName('weather', 'hash-1'), 'crm');
      assert.equal(await store.apiKeyName('house', 'hash-1'), undefined, "another model's key");
      assert.equal(await store.requiresApiKey('weather'), true);

      const revoked = await store.revokeApiKey('weather', 'crm');
      assert.ok(revoked?.revokedAt);
      assert.equal((await store.revokeApiKey('weather', 'crm'))?.revokedAt, revoked.revokedAt, 'revoking twice keeps the first time');
      assert.equal(await store.revokeApiKey('weather', 'nobody'), undefined);
      assert.equal(await store.apiKeyName('weather', 'hash-1'), undefined);
      assert.equal(await store.requiresApiKey('weather'), true, 'revoking the last key locks the model, it does not open it');
      assert.deepEqual(
        (await store.listApiKeys('weather')).map((k) => k.name),
        ['crm'],
      );
      await store.close();
    });
  });
}
