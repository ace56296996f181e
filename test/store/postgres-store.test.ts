/**
 * The Postgres store on a real Postgres server (test/helpers/postgres.ts), every table group,
 * each scenario run on every engine (STORE_ENGINES) with the same expectations: they must not
 * differ. What only a shared server adds is in postgres-shared.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PredictionLog, Store, StoreOptions } from '../../adapters/store/index.ts';
import { FeedbackConflictError, LabelTypeError, UnknownLabelError, UnknownPredictionError } from '../../core/errors.ts';
import { collect, STORE_ENGINES } from '../helpers/store-engines.ts';

const CLASSES = ['rain', 'sun'];

function prediction(id: string, label: string, extra: Partial<PredictionLog> = {}): PredictionLog {
  return {
    id,
    model: 'weather',
    version: '1',
    role: 'champion',
    features: { temp_max: 10, wind: null },
    label,
    confidence: label === 'rain' ? 0.7 : 0.6,
    probabilities: Object.fromEntries(CLASSES.map((c) => [c, c === label ? 0.7 : 0.3])),
    ...extra,
  };
}

function valuePrediction(id: string, value: number, extra: Partial<PredictionLog> = {}): PredictionLog {
  return {
    id,
    model: 'house',
    version: '1',
    role: 'champion',
    task: 'regression',
    features: { rooms: 3 },
    label: String(value),
    confidence: null,
    probabilities: {},
    ...extra,
  };
}

/** A clock the test moves: created_at columns, "since" windows and the alert ledger read it. */
function clock(start: string) {
  const c = { now: new Date(start), set: (iso: string) => (c.now = new Date(iso)), options: { now: () => c.now } };
  return c;
}

for (const engine of STORE_ENGINES) {
  const open = (options: StoreOptions) => engine.open(options);
  describe(`${engine.name} store`, () => {
    test('records: windows, reference records, watermarks, by source, quarantine and restore', async () => {
      const time = clock('2026-03-01T00:00:00Z');
      const store = await open(time.options);
      const rec = (x: number, source = 'upload') => ({ features: { x }, label: x % 2 ? 'rain' : 'sun', source });
      assert.equal(await store.addRecords('weather', [rec(1), rec(2), rec(3, 'import.csv')]), 3);
      time.set('2026-03-10T00:00:00Z');
      await store.addRecords('weather', [rec(10)]);
      await store.addRecords('other', [rec(99)]);
      const championTrainedThrough = 3;
      const x = async (window: Parameters<Store['readRecords']>[1], at?: Parameters<Store['readRecords']>[2]) =>
        (await store.readRecords('weather', window, at)).map((r) => r.features.x);
      assert.deepEqual(await x({ kind: 'all' }), [1, 2, 3, 10]);
      assert.deepEqual(await x({ kind: 'lastRows', rows: 2 }), [3, 10]);
      assert.deepEqual(await x({ kind: 'lastDays', days: 5 }), [10]);
      assert.deepEqual(await x({ kind: 'lastDays', days: 5 }, { asOf: '2026-03-02T00:00:00Z' }), [1, 2, 3, 10]);
      assert.deepEqual(await x({ kind: 'sinceChampion' }, { championTrainedThrough }), [10]);
      const reference = await store.referenceRecords('weather', { throughId: 3, source: 'upload' }, 1);
      assert.deepEqual(
        reference.map((r) => [r.id, r.source]),
        [[2, 'upload']],
      );
      assert.equal(await store.maxRecordId('weather'), 4);
      assert.equal(await store.maxRecordId('nobody'), 0);
      assert.equal(await store.countRecordsSince('weather', 2), 2);

      assert.deepEqual(await store.recordsBySource('weather'), [
        {
          source: 'upload',
          records: 3,
          quarantined: 0,
          firstId: 1,
          lastId: 4,
          firstAt: '2026-03-01T00:00:00.000Z',
          lastAt: '2026-03-10T00:00:00.000Z',
        },
        {
          source: 'import.csv',
          records: 1,
          quarantined: 0,
          firstId: 3,
          lastId: 3,
          firstAt: '2026-03-01T00:00:00.000Z',
          lastAt: '2026-03-01T00:00:00.000Z',
        },
      ]);
      assert.equal(await store.quarantineSource('weather', 'upload', 'bad labels'), 3);
      assert.deepEqual(await x({ kind: 'all' }), [3]);
      assert.deepEqual(
        (await store.recordsBySource('weather')).map((s) => [s.source, s.records, s.quarantined]),
        [
          ['upload', 0, 3],
          ['import.csv', 1, 0],
        ],
      );
      assert.equal(await store.restoreSource('weather', 'upload'), 3);
      const restored = await store.readRecords('weather', { kind: 'all' });
      assert.deepEqual(
        restored.map((r) => r.id),
        [1, 2, 3, 4],
        'ids kept',
      );
      await store.addRecords('weather', [rec(11)]);
      assert.equal(await store.maxRecordId('weather'), 6, 'ids never reused (5 went to the other model)');
      await store.close();
    });

    test('feedback: idempotent, conflicts, unknown predictions, label types, kinds, senders', async () => {
      const store = await open(clock('2026-03-01T00:00:00Z').options);
      await store.logPredictions([
        prediction('p1', 'rain'),
        prediction('p2', 'sun'),
        prediction('p3', 'sun'),
        prediction('s1', 'sun', { role: 'shadow', version: '2', shadowOf: 'p1' }),
        valuePrediction('v1', 12),
      ]);
      const first = await store.addFeedback('p1', 'rain');
      assert.equal(await store.addFeedback('p1', 'rain'), first, 'the same feedback twice is one');
      await assert.rejects(async () => store.addFeedback('p1', 'sun'), FeedbackConflictError);
      await assert.rejects(async () => store.addFeedback('nope', 'rain'), UnknownPredictionError);
      await assert.rejects(async () => store.addFeedback('p2', 'rain', 'house'), UnknownPredictionError, 'another model');
      await assert.rejects(async () => store.addFeedback('s1', 'rain'), UnknownPredictionError, 'a shadow prediction');
      await assert.rejects(async () => store.addFeedback('p2', 'hail'), UnknownLabelError);
      await assert.rejects(async () => store.addFeedback('p2', 3), LabelTypeError, "a number is not a classifier's class");
      await assert.rejects(async () => store.addFeedback('v1', 'abc'), LabelTypeError);
      const value = await store.addFeedback('v1', ' 12.50', undefined, 'alice');
      assert.equal(await store.addFeedback('v1', 12.5), value, 'the same number, spelt otherwise');
      await store.addFeedback('p2', { kind: 'accepted' });
      await store.addFeedback('p3', { kind: 'overridden' });

      const events = await store.feedbackSince('weather', 0);
      assert.deepEqual(
        events.map((e) => [e.version, e.predicted, e.feedback]),
        [
          ['1', 'rain', { kind: 'label', label: 'rain' }],
          ['1', 'sun', { kind: 'accepted' }],
          ['1', 'sun', { kind: 'overridden' }],
        ],
      );
      assert.deepEqual(events[0].features, { temp_max: 10, wind: null });
      assert.deepEqual(events[0].probabilities, { rain: 0.7, sun: 0.3 });
      assert.deepEqual(
        (await store.labelledSince('weather', first)).map((l) => [l.predicted, l.truth]),
        [['sun', 'sun']],
        'after the first; an override without a label has no truth',
      );
      assert.equal(await store.maxFeedbackId('weather'), events[2].feedbackId);
      assert.deepEqual(
        (await store.recordsBySource('house')).map((s) => [s.source, s.records]),
        [['feedback:alice', 1]],
      );
      const houseRecords = await store.readRecords('house', { kind: 'all' });
      assert.deepEqual(
        houseRecords.map((r) => [r.label, r.features]),
        [['12.5', { rooms: 3 }]],
      );

      // All or nothing: the bad second item undoes the good first one.
      await store.logPredictions([prediction('p4', 'rain')]);
      const before = await store.maxFeedbackId('weather');
      await assert.rejects(
        async () =>
          store.addFeedbackMany([
            { predictionId: 'p4', label: 'rain' },
            { predictionId: 'missing', label: 'rain' },
          ]),
        UnknownPredictionError,
      );
      assert.equal(await store.maxFeedbackId('weather'), before);
      // Postgres sequences do not roll back: ids are never reused, but may skip.
      const [after] = await store.addFeedbackMany([{ predictionId: 'p4', label: 'rain' }], 'weather');
      assert.ok(after > before);
      await store.close();
    });

    test('monitoring reads: counts, the last N after a seq, recent predictions, live scores', async () => {
      const time = clock('2026-03-01T00:00:00Z');
      const store = await open(time.options);
      await store.logPredictions([prediction('a', 'rain'), prediction('b', 'sun'), prediction('x', 'sun', { model: 'other' })]);
      time.set('2026-03-02T00:00:00Z');
      await store.logPredictions([
        prediction('c', 'rain', { version: '2', role: 'canary' }),
        prediction('c-shadow', 'sun', { version: '3', role: 'shadow', shadowOf: 'c' }),
        prediction('d', 'sun'),
      ]);
      assert.equal(await store.maxPredictionSeq('weather'), 6);
      assert.equal(await store.maxPredictionSeq('nobody'), 0);
      assert.equal(await store.countPredictionsSince('weather', 1), 3, 'b, c, d: not the shadow');
      const since = await store.predictionsSince('weather', 1, 2);
      assert.deepEqual(
        since.rows.map((r) => [r.seq, r.version, r.role, r.label]),
        [
          [4, '2', 'canary', 'rain'],
          [6, '1', 'champion', 'sun'],
        ],
      );
      assert.equal(since.maxSeq, 6);
      assert.deepEqual(await store.predictionsSince('weather', 6, 10), { rows: [], maxSeq: 6 });
      assert.deepEqual(
        (await store.recentPredictions('weather', 2)).map((r) => [r.label, r.confidence, r.version]),
        [
          ['rain', 0.7, '2'],
          ['sun', 0.6, '1'],
        ],
      );

      await store.addFeedback('a', 'sun');
      await store.addFeedback('c', 'rain');
      await store.addFeedback('d', 'sun');
      assert.deepEqual(await store.liveAccuracy('weather', '2026-03-02T00:00:00Z'), {
        '1': { n: 1, correct: 1 },
        '2': { n: 1, correct: 1 },
      });
      assert.deepEqual(await store.liveAccuracy('weather', '2026-02-01'), { '1': { n: 2, correct: 1 }, '2': { n: 1, correct: 1 } });
      await assert.rejects(async () => store.liveAccuracy('weather', 'yesterday'), RangeError);

      await store.logPredictions([valuePrediction('v1', 10), valuePrediction('v2', 20), valuePrediction('v3', 5, { version: '2' })]);
      await store.addFeedback('v1', 12);
      await store.addFeedback('v2', 16);
      await store.addFeedback('v3', { kind: 'accepted' });
      const errors = await store.liveErrors('house', '2026-03-01T00:00:00Z');
      assert.deepEqual(Object.keys(errors).sort(), ['1', '2']);
      assert.equal(errors['1'].n, 2);
      assert.equal(errors['1'].mae, 3);
      assert.ok(Math.abs(errors['1'].rmse - Math.sqrt(10)) < 1e-9);
      assert.deepEqual(errors['1'].squaredErrors, { n: 2, mean: 10, m2: 72 });
      assert.deepEqual(errors['2'], { n: 1, mae: 0, rmse: 0, squaredErrors: { n: 1, mean: 0, m2: 0 } });
      await store.close();
    });

    test('group commit: each write succeeds or fails alone', async () => {
      const store = await open(clock('2026-03-01T00:00:00Z').options);
      await store.logPredictions([prediction('old', 'rain'), prediction('labelled', 'sun')]);
      await store.addFeedback('labelled', 'sun');
      await store.recordLabelQueueOffers('weather', 'confidence', ['old']);
      const results = await store.writeLog([
        { kind: 'predictions', rows: [prediction('n1', 'rain'), prediction('n2', 'sun')] },
        { kind: 'predictions', rows: [prediction('n3', 'rain'), prediction('old', 'sun')] }, // a duplicate id: refused
        { kind: 'feedback', items: [{ predictionId: 'old', label: 'rain' }] },
        { kind: 'feedback', items: [{ predictionId: 'labelled', label: 'rain' }] }, // a conflict: refused
        { kind: 'feedback', items: [{ predictionId: 'n1', label: 'sun' }], sender: 'bob' }, // on a prediction of this batch
        { kind: 'feedback', items: [{ predictionId: 'n3', label: 'sun' }] }, // its prediction was refused
      ]);
      assert.deepEqual(
        results.map((r) => r.ok),
        [true, false, true, false, true, false],
      );
      const refusal = (i: number) => (results[i] as { ok: false; error: unknown }).error;
      assert.ok(refusal(3) instanceof FeedbackConflictError);
      assert.ok(refusal(5) instanceof UnknownPredictionError);
      assert.deepEqual(results[2], { ok: true, ids: [2], offered: 1 });
      assert.deepEqual(results[4], { ok: true, ids: [3], offered: 0 });
      const logged = await collect(store.exportLog('weather', {}));
      assert.deepEqual(
        logged.map((p) => [p.id, p.feedback?.label ?? null, p.feedback?.source ?? null]),
        [
          ['old', 'rain', 'anonymous'],
          ['labelled', 'sun', 'anonymous'],
          ['n1', 'sun', 'bob'],
          ['n2', null, null],
        ],
      );
      assert.deepEqual(await store.writeLog([{ kind: 'predictions', rows: [prediction('n4', 'rain')] }]), [{ ok: true, ids: [] }]);
      assert.ok((await store.maxPredictionSeq('weather')) > logged.at(-1)!.seq, 'seqs never reused');
      await store.close();
    });

    test('export: every row in seq order a page at a time, from a seq or a time; its columns sorted bytewise', async () => {
      const time = clock('2026-03-01T00:00:00Z');
      const store = await open(time.options);
      const rows = Array.from({ length: 1203 }, (_, i) =>
        prediction(`p${i}`, i % 3 ? 'sun' : 'rain', { features: { b: i, B: 1, a: 'x' } }),
      );
      await store.logPredictions(rows.slice(0, 1000));
      time.set('2026-03-05T00:00:00Z');
      await store.logPredictions(rows.slice(1000));
      await store.logPredictions([valuePrediction('v', 1)]);
      await store.addFeedback('p1001', { kind: 'overridden', label: 'rain' });
      const all = await collect(store.exportLog('weather', {}));
      assert.equal(all.length, 1203);
      assert.deepEqual(
        all.map((p) => p.seq),
        Array.from({ length: 1203 }, (_, i) => i + 1),
      );
      assert.deepEqual(all[1001], {
        seq: 1002,
        id: 'p1001',
        createdAt: '2026-03-05T00:00:00.000Z',
        version: '1',
        role: 'champion',
        task: 'classification',
        features: { b: 1001, B: 1, a: 'x' },
        label: 'sun',
        confidence: 0.6,
        probabilities: { rain: 0.3, sun: 0.7 },
        shadowOf: null,
        feedback: { kind: 'overridden', label: 'rain', source: 'anonymous', createdAt: '2026-03-05T00:00:00.000Z' },
      });
      assert.equal((await collect(store.exportLog('weather', { afterSeq: 600 }))).length, 603);
      assert.equal((await collect(store.exportLog('weather', { fromTime: '2026-03-04T00:00:00Z' }))).length, 203);
      assert.equal((await collect(store.exportLog('weather', { fromTime: '2026-03-04T00:00:00Z', afterSeq: 1100 }))).length, 103);
      await assert.rejects(async () => collect(store.exportLog('weather', { fromTime: 'soon' })), RangeError);
      assert.deepEqual(await store.exportColumns('weather', {}), { features: ['B', 'a', 'b'], classes: ['rain', 'sun'] });
      assert.deepEqual(await store.exportColumns('house', {}), { features: ['rooms'], classes: [] });
      assert.deepEqual(await store.exportColumns('weather', { afterSeq: 5000 }), { features: [], classes: [] });
      await store.close();
    });

    test('deployments, API keys and the alert ledger', async () => {
      const time = clock('2026-03-01T00:00:00Z');
      const store = await open(time.options);
      assert.equal(await store.getDeployment('weather'), undefined);
      const state = {
        champion: { version: '3' },
        canary: { version: '4', weight: 0.1 },
        updatedAt: '2026-03-01T00:00:00Z',
        reason: 'canary',
      };
      await store.setDeployment('weather', state);
      await store.setDeployment('Zebra', { champion: { version: '1' }, updatedAt: '2026-03-01T00:00:00Z', reason: 'first' });
      await store.setDeployment('weather', { ...state, canary: undefined, reason: 'promoted' });
      assert.deepEqual(await store.getDeployment('weather'), {
        champion: { version: '3' },
        updatedAt: '2026-03-01T00:00:00Z',
        reason: 'promoted',
      });
      assert.deepEqual(
        (await store.listDeployments()).map((d) => d.model),
        ['Zebra', 'weather'],
        'bytewise order',
      );

      assert.equal(await store.requiresApiKey('weather'), false);
      assert.equal(await store.addApiKey('weather', 'ci', 'hash-1'), true);
      assert.equal(await store.addApiKey('weather', 'ci', 'hash-2'), false, 'the name is taken');
      time.set('2026-03-02T00:00:00Z');
      assert.equal(await store.addApiKey('weather', 'alice', 'hash-3'), true);
      assert.equal(await store.apiKeyName('weather', 'hash-1'), 'ci');
      assert.equal(await store.apiKeyName('other', 'hash-1'), undefined);
      assert.deepEqual(await store.revokeApiKey('weather', 'ci'), {
        name: 'ci',
        createdAt: '2026-03-01T00:00:00.000Z',
        revokedAt: '2026-03-02T00:00:00.000Z',
      });
      time.set('2026-03-03T00:00:00Z');
      assert.equal((await store.revokeApiKey('weather', 'ci'))!.revokedAt, '2026-03-02T00:00:00.000Z', 'the first revocation stands');
      assert.equal(await store.revokeApiKey('weather', 'nobody'), undefined);
      assert.equal(await store.apiKeyName('weather', 'hash-1'), undefined);
      assert.equal(await store.requiresApiKey('weather'), true);
      assert.deepEqual(
        (await store.listApiKeys('weather')).map((k) => k.name),
        ['ci', 'alice'],
      );

      const onePerDay = (history: unknown[]) => (history.length ? { reason: 'rate_limit', detail: 'one a day' } : undefined);
      const claim = (id: string) => store.claimAlert({ id, model: 'weather', kind: 'drift', dedupKey: 'k' }, 86_400_000, onePerDay);
      const admitted = await claim('a1');
      assert.deepEqual(admitted, {
        id: 'a1',
        model: 'weather',
        kind: 'drift',
        dedupKey: 'k',
        at: Date.parse('2026-03-03T00:00:00Z'),
        delivered: [],
      });
      assert.deepEqual(await claim('a1'), admitted, 'claimed twice: the same verdict');
      assert.deepEqual((await claim('a2')).suppressed, { reason: 'rate_limit', detail: 'one a day' });
      time.set('2026-03-05T00:00:00Z');
      assert.equal((await claim('a3')).suppressed, undefined, 'past the lookback');
      await store.recordAlertDelivery('a1', 'slack');
      await store.recordAlertDelivery('a1', 'email');
      await store.recordAlertDelivery('a1', 'slack');
      assert.deepEqual((await store.getAlert('a1'))!.delivered, ['slack', 'email']);
      assert.equal(await store.getAlert('nope'), undefined);
      await assert.rejects(async () => store.recordAlertDelivery('nope', 'slack'), RangeError);
      await store.close();
    });

    test('shadow comparison and the label queue', async () => {
      const time = clock('2026-03-01T00:00:00Z');
      const store = await open(time.options);
      const shadow = (id: string, label: string, of: string) =>
        prediction(id, label, {
          role: 'shadow',
          version: '9',
          shadowOf: of,
          probabilities: { rain: label === 'rain' ? 0.9 : 0.1, sun: label === 'rain' ? 0.1 : 0.9 },
        });
      await store.logPredictions([
        prediction('c1', 'rain'),
        shadow('s1', 'rain', 'c1'),
        prediction('c2', 'sun'),
        shadow('s2', 'rain', 'c2'),
        prediction('k1', 'sun', { role: 'canary', version: '2', confidence: 0.55 }),
        shadow('s3', 'sun', 'k1'),
        prediction('c3', 'sun', { confidence: 0.51 }),
      ]);
      await store.addFeedback('c2', 'rain');
      const counts = await store.shadowPairCounts('weather', '9', {});
      assert.deepEqual(counts, {
        pairs: 2,
        agreed: 1,
        absDifference: 0,
        labelled: { n: 1, shadowCorrect: 1, championCorrect: 0, shadowSquaredError: 0, championSquaredError: 0 },
      });
      assert.equal((await store.shadowPairCounts('weather', '9', { afterSeq: 2 })).pairs, 1);
      assert.equal((await store.shadowPairCounts('weather', '9', { throughFeedbackId: 0 })).labelled.n, 0);
      assert.equal((await store.shadowPairCounts('weather', '9', { fromTime: '2026-04-01' })).pairs, 0);
      await assert.rejects(async () => store.shadowPairCounts('weather', '9', { fromTime: 'x' }), RangeError);

      await store.logPredictions([valuePrediction('h1', 10), valuePrediction('hs', 13, { role: 'shadow', version: '9', shadowOf: 'h1' })]);
      await store.addFeedback('h1', 11);
      assert.deepEqual(await store.shadowPairCounts('house', '9', {}), {
        pairs: 1,
        agreed: 0,
        absDifference: 3,
        labelled: { n: 1, shadowCorrect: 0, championCorrect: 0, shadowSquaredError: 4, championSquaredError: 1 },
      });

      const confidence = await store.labelQueue('weather', { strategy: 'confidence', limit: 2, since: {} });
      assert.deepEqual(
        confidence.map((i) => [i.predictionId, i.confidence]),
        [
          ['c3', 0.51],
          ['k1', 0.55],
        ],
      );
      const disagreement = await store.labelQueue('weather', { strategy: 'disagreement', limit: 5, since: {} });
      assert.deepEqual(
        disagreement.map((i) => [i.predictionId, i.other?.predictionId, i.disagreement]),
        [
          ['k1', 's3', disagreement[0].disagreement],
          ['c1', 's1', disagreement[1].disagreement],
        ],
        'c2 has feedback; k1 and c1 agree with their shadows',
      );
      assert.ok(Math.abs(disagreement[0].disagreement! - 0.2) < 1e-9 && Math.abs(disagreement[1].disagreement! - 0.2) < 1e-9);
      assert.deepEqual(disagreement[0].other, {
        predictionId: 's3',
        version: '9',
        role: 'shadow',
        label: 'sun',
        confidence: 0.6,
        probabilities: { rain: 0.1, sun: 0.9 },
      });
      assert.deepEqual(
        (await store.unlabelledPredictions('weather', ['1'], {}, 10)).map((i) => i.predictionId),
        ['c3', 'c1'],
      );
      assert.deepEqual(await store.unlabelledPredictions('weather', ['1'], { afterSeq: 7 }, 10), []);

      await store.recordLabelQueueOffers('weather', 'confidence', ['c3', 'k1']);
      await store.recordLabelQueueOffers('weather', 'disagreement', ['k1', 'c1']);
      await store.addFeedback('k1', 'sun');
      assert.deepEqual(await store.labelQueueSummary('weather'), { offered: 3, labelled: 1 });
      assert.deepEqual(await store.labelQueueSummary('house'), { offered: 0, labelled: 0 });
      await store.close();
    });
  });
}
