/**
 * GET /v1/models/:model/label-queue over HTTP on a real SQLite file: the served predictions
 * without feedback, lowest confidence first or most disagreement with the shadow first; what it
 * offered is recorded, and feedback sent for those is counted as such (summary and /metrics).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ModelFiles } from '../../core/contracts.ts';
import { servingFiles } from '../../ml/bundle.ts';
import { trainTrial } from '../../ml/train.ts';
import { call, eventually, featuresOf, startLocalServer, trainModel, weatherRows } from '../helpers/local-models.ts';
import { parsePrometheus, sampleSum } from '../helpers/prometheus.ts';
import { tempDir } from '../helpers/services.ts';
import { collect } from '../helpers/store-engines.ts';

const TOKEN = 'label-queue-admin';
const MODEL = 'weather';
/** A regression model on the same server: version 9 predicts temp_max. */
const TEMPS = 'temps';
const weather = weatherRows();

let server: Awaited<ReturnType<typeof startLocalServer>>;

interface Served {
  id: string;
  label: string;
  probabilities: Record<string, number>;
  version: string;
}
interface Item {
  predictionId: string;
  seq: number;
  createdAt: string;
  version: string;
  role: string;
  features: Record<string, unknown>;
  label: string;
  confidence: number;
  probabilities: Record<string, number>;
  other?: { predictionId: string; version: string; role: string; label: string; probabilities: Record<string, number> };
  disagreement?: number;
}

const api = (method: string, path: string, body?: unknown, token?: string) => call(server.base, method, path, body, token);
const deploy = (model: string, body: Record<string, unknown>) =>
  api('PUT', `/admin/models/${model}/deployment`, { ...body, reason: 'label queue test' }, TOKEN);
const queue = (query: string, model = MODEL, token: string | undefined = TOKEN) =>
  api('GET', `/v1/models/${model}/label-queue${query}`, undefined, token);

async function predict(rows: Array<Record<string, unknown>>, model = MODEL): Promise<Served[]> {
  const { status, body } = await api('POST', `/v1/models/${model}/predict`, { rows });
  assert.equal(status, 200, JSON.stringify(body));
  return body.predictions;
}

async function feedback(items: Array<{ predictionId: string; label: string }>) {
  const given = await api('POST', `/v1/models/${MODEL}/feedback`, { feedback: items });
  assert.equal(given.status, 200, given.text);
}

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  return sampleSum(parsePrometheus((await api('GET', '/metrics')).text), name, labels);
}

/** A linear regression of temp_max on the other three numbers. */
async function regressionFiles(): Promise<ModelFiles> {
  const inputs = ['precipitation', 'temp_min', 'wind'];
  const part = (rows: typeof weather) => ({ rows: rows.map((r) => featuresOf(r, inputs)), labels: rows.map((r) => String(r.temp_max)) });
  const { checkpoint } = await trainTrial({
    config: { family: 'softmax', params: { learningRate: 0.05 } },
    features: inputs,
    classes: [],
    labelType: 'number',
    train: part(weather.slice(30, 300)),
    validation: part(weather.slice(0, 30)),
    seed: 3,
    fromEpoch: 0,
    toEpoch: 3,
  });
  return servingFiles(checkpoint);
}

const totalVariation = (a: Record<string, number>, b: Record<string, number>) =>
  0.5 * Object.keys(a).reduce((sum, c) => sum + Math.abs(a[c] - (b[c] ?? a[c])), 0);

before(async () => {
  const [v1, v2, v9] = await Promise.all([trainModel(weather, 0, 1), trainModel(weather, 600, 2), regressionFiles()]);
  server = await startLocalServer(join(tempDir(), 'perennial.sqlite'), TOKEN, { '1': v1, '2': v2, '9': v9 });
  assert.equal((await deploy(MODEL, { champion: { version: '1' } })).status, 200);
  assert.equal((await deploy(TEMPS, { champion: { version: '9' } })).status, 200);
});

after(async () => {
  await server?.stop();
});

test('confidence: unlabelled predictions, lowest confidence first; feedback on offered ones is counted', async () => {
  const rows = weather.slice(1000, 1040).map((r) => featuresOf(r));
  const served = [...(await predict(rows.slice(0, 20))), ...(await predict(rows.slice(20)))];
  const confidence = (p: Served) => p.probabilities[p.label];
  const byConfidence = [...served].sort((a, b) => confidence(a) - confidence(b));
  // The two least confident already have feedback: they are not worth offering.
  await feedback(byConfidence.slice(0, 2).map((p) => ({ predictionId: p.id, label: 'rain' })));

  const first = await queue('?limit=10');
  assert.equal(first.status, 200, first.text);
  assert.equal(first.body.strategy, 'confidence');
  const items: Item[] = first.body.items;
  assert.deepEqual(
    items.map((i) => i.predictionId),
    byConfidence.slice(2, 12).map((p) => p.id),
  );
  for (const item of items) {
    const i = served.findIndex((p) => p.id === item.predictionId);
    assert.deepEqual(item.features, rows[i]);
    assert.equal(item.label, served[i].label);
    assert.equal(item.version, '1');
    assert.equal(item.role, 'champion');
    assert.ok(Math.abs(item.confidence - confidence(served[i])) < 1e-6);
    assert.deepEqual(Object.keys(item.probabilities).sort(), Object.keys(served[i].probabilities).sort());
    assert.ok(!Number.isNaN(Date.parse(item.createdAt)));
  }
  assert.deepEqual(first.body.summary, { offered: 10, labelled: 0 });

  // Feedback on three offered predictions and one that was never offered.
  const notOffered = byConfidence[byConfidence.length - 1];
  await feedback([...items.slice(0, 3).map((i) => i.predictionId), notOffered.id].map((predictionId) => ({ predictionId, label: 'sun' })));
  assert.equal(await metric('perennial_label_queue_feedback_total', { model: MODEL }), 3);
  assert.equal(await metric('perennial_feedback_total', { model: MODEL }), 6);

  // Labelled ones leave the queue; the rest come again, and the summary counts what got feedback.
  const second = await queue('?limit=10');
  const again: Item[] = second.body.items;
  assert.deepEqual(
    again.slice(0, 7).map((i) => i.predictionId),
    items.slice(3).map((i) => i.predictionId),
  );
  assert.deepEqual(second.body.summary, { offered: 13, labelled: 3 });

  // since: only the predictions after that seq.
  const since = items[0].seq;
  const later = await queue(`?since=${since}&limit=500`);
  assert.equal(later.status, 200, later.text);
  assert.ok(later.body.items.length > 0);
  assert.ok(later.body.items.every((i: Item) => i.seq > since));
});

test("disagreement: predictions the shadow answered otherwise first, with the shadow's answer", async () => {
  assert.equal((await deploy(MODEL, { champion: { version: '1' }, shadow: { version: '2' } })).status, 200);
  const watermark = await server.store.maxPredictionSeq(MODEL);
  const served = await predict(weather.slice(1200, 1260).map((r) => featuresOf(r)));
  await eventually('the shadow predictions', async () =>
    (await collect(server.store.exportLog(MODEL, { afterSeq: watermark }))).filter((r) => r.role === 'shadow').length === served.length
      ? true
      : undefined,
  );
  const shadowOf = new Map(
    (await collect(server.store.exportLog(MODEL, { afterSeq: watermark }))).filter((r) => r.role === 'shadow').map((r) => [r.shadowOf!, r]),
  );

  const { status, body, text } = await queue('?strategy=disagreement&limit=500');
  assert.equal(status, 200, text);
  const items: Item[] = body.items;
  // Only the rows the shadow also answered, each once.
  assert.deepEqual(items.map((i) => i.predictionId).sort(), served.map((p) => p.id).sort());
  for (const item of items) {
    const shadow = shadowOf.get(item.predictionId)!;
    assert.deepEqual(
      item.other && { id: item.other.predictionId, version: item.other.version, role: item.other.role, label: item.other.label },
      {
        id: shadow.id,
        version: '2',
        role: 'shadow',
        label: shadow.label,
      },
    );
  }
  assertMostDisagreementFirst(items);
});

test('disagreement with a canary (no shadow): each row is put to the other served version, never logged', async () => {
  assert.equal((await deploy(MODEL, { champion: { version: '1' }, canary: { version: '2', weight: 0.5 } })).status, 200);
  const watermark = await server.store.maxPredictionSeq(MODEL);
  const rows = weather.slice(1400, 1440).map((r) => featuresOf(r));
  const served = await Promise.all(rows.map(async (row) => (await predict([row]))[0]));
  assert.deepEqual([...new Set(served.map((p) => p.version))].sort(), ['1', '2'], 'both versions served some rows');

  const { status, body, text } = await queue(`?strategy=disagreement&since=${watermark}&limit=500`);
  assert.equal(status, 200, text);
  assert.equal(await server.store.maxPredictionSeq(MODEL), watermark + rows.length, 'the other answers are not logged');
  const items: Item[] = body.items;
  assert.deepEqual(items.map((i) => i.predictionId).sort(), served.map((p) => p.id).sort());
  // The other answer is what the other version says to the same row (asked by name over /v2).
  for (const version of ['1', '2']) {
    const mine = items.filter((i) => i.version === version);
    const other = version === '1' ? '2' : '1';
    const asked = await infer(
      other,
      mine.map((i) => i.features),
    );
    mine.forEach((item, k) => {
      assert.equal(item.role, version === '1' ? 'champion' : 'canary');
      assert.deepEqual(
        { ...item.other, probabilities: undefined },
        {
          version: other,
          role: other === '1' ? 'champion' : 'canary',
          label: asked[k].label,
          confidence: item.other!.probabilities[asked[k].label],
          probabilities: undefined,
        },
      );
      for (const c of Object.keys(asked[k].probabilities))
        assert.ok(Math.abs(item.other!.probabilities[c] - asked[k].probabilities[c]) < 1e-5, `${item.predictionId} ${c}`);
    });
  }
  assertMostDisagreementFirst(items);
  assert.equal((await deploy(MODEL, { champion: { version: '1' } })).status, 200);
});

/** Different labels first, then the larger distance first; each distance is the two answers' total variation. */
function assertMostDisagreementFirst(items: Item[]) {
  for (const item of items)
    assert.ok(Math.abs(item.disagreement! - totalVariation(item.probabilities, item.other!.probabilities)) < 1e-5, item.predictionId);
  const differs = items.map((i) => i.label !== i.other!.label);
  assert.deepEqual(
    differs,
    [...differs].sort((a, b) => Number(b) - Number(a)),
  );
  assert.ok(differs.includes(true), 'two models trained on different days disagree somewhere');
  for (let i = 1; i < items.length; i++)
    if (differs[i] === differs[i - 1]) assert.ok(items[i].disagreement! <= items[i - 1].disagreement!, `item ${i} out of order`);
}

/** A version's answers to rows, asked by name over the Open Inference Protocol. */
async function infer(version: string, rows: Array<Record<string, unknown>>) {
  const inputs = Object.keys(rows[0]).map((name) => ({ name, shape: [rows.length], datatype: 'FP64', data: rows.map((r) => r[name]) }));
  const { status, body, text } = await api('POST', `/v2/models/${MODEL}/versions/${version}/infer`, { inputs });
  assert.equal(status, 200, text);
  const output = (name: string) => body.outputs.find((o: { name: string }) => o.name === name);
  const classes: string[] = JSON.parse(output('probabilities').parameters.classes);
  return (output('label').data as string[]).map((label, r) => ({
    label,
    probabilities: Object.fromEntries(classes.map((c, k) => [c, output('probabilities').data[r * classes.length + k] as number])),
  }));
}

test('a regression model: confidence is refused naming the strategy, disagreement is served', async () => {
  await predict(
    weather.slice(1000, 1005).map((r) => featuresOf(r, ['precipitation', 'temp_min', 'wind'])),
    TEMPS,
  );
  const refused = await queue('?strategy=confidence', TEMPS);
  assert.equal(refused.status, 400);
  assert.match(
    refused.body.message,
    /strategy: temps is a regression model, whose predictions have no confidence; use strategy=disagreement/,
  );
  const served = await queue('?strategy=disagreement', TEMPS);
  assert.equal(served.status, 200, served.text);
  assert.deepEqual(served.body.items, []); // no shadow: no second answer to any row
  assert.deepEqual(served.body.summary, { offered: 0, labelled: 0 });
});

test('bad requests are refused naming the field, an unknown model is a 404, and nothing is offered', async () => {
  const before = await server.store.labelQueueSummary(MODEL);
  for (const [query, field] of [
    ['?limit=0', 'limit'],
    ['?limit=501', 'limit'],
    ['?limit=ten', 'limit'],
    ['?limit=2.5', 'limit'],
    ['?strategy=random', 'strategy'],
    ['?since=yesterday', 'since'],
    ['?colour=blue', '(root)'],
  ]) {
    const { status, body } = await queue(query);
    assert.equal(status, 400, query);
    assert.match(body.message, new RegExp(`invalid query:\\n {2}- ${field.replace(/[()]/g, '\\$&')}: `), query);
  }
  assert.equal((await queue('', 'no-such-model')).status, 404);
  assert.equal((await queue('', 'Not_A_Name')).status, 400);
  assert.equal((await queue('', MODEL, 'wrong-token')).status, 401);
  assert.equal((await queue('', MODEL, '')).status, 401); // no header
  assert.deepEqual(await server.store.labelQueueSummary(MODEL), before);
});
