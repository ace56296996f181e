/**
 * Sticky routing over HTTP on a real SQLite file: a request's `routingKey` (/v1 body field, /v2
 * `parameters.routingKey`) decides between champion and canary by core/sticky-assignment.ts, so a
 * key keeps its version across requests, batches and a stepped-up weight; requests without one
 * stay random; a bad key is a 400 naming the field and nothing is logged.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { routesToChallenger } from '../../core/sticky-assignment.ts';
import { FEATURES, call, featuresOf, startLocalServer, trainModel, weatherRows } from '../helpers/local-models.ts';
import { tempDir } from '../helpers/services.ts';

const TOKEN = 'routing-key-admin';
const MODEL = 'weather';
const weather = weatherRows();
const ROW = featuresOf(weather[1000]);
const KEYS = Array.from({ length: 200 }, (_, i) => `user-${i}`);

let server: Awaited<ReturnType<typeof startLocalServer>>;

const deploy = (weight: number) =>
  call(
    server.base,
    'PUT',
    `/admin/models/${MODEL}/deployment`,
    { champion: { version: '1' }, canary: { version: '2', weight }, reason: `canary at ${weight}` },
    TOKEN,
  );

async function predict(body: Record<string, unknown>) {
  return call(server.base, 'POST', `/v1/models/${MODEL}/predict`, { rows: [ROW], ...body });
}

/** The version that answers each key, asked all at once so that the requests share batches. */
async function versionsOf(keys: string[]): Promise<string[]> {
  const answers = await Promise.all(keys.map((routingKey) => predict({ routingKey })));
  return answers.map(({ status, body }) => {
    assert.equal(status, 200, JSON.stringify(body));
    return body.predictions[0].version as string;
  });
}

before(async () => {
  const [v1, v2] = await Promise.all([trainModel(weather, 0, 1), trainModel(weather, 300, 2)]);
  server = await startLocalServer(join(tempDir(), 'perennial.sqlite'), TOKEN, { '1': v1, '2': v2 });
});

after(async () => {
  await server?.stop();
});

test('a key is answered by one version, the one core/sticky-assignment.ts places it with; keys split by the weight', async () => {
  assert.equal((await deploy(0.5)).status, 200);
  const first = await versionsOf(KEYS);
  assert.deepEqual(
    first,
    KEYS.map((key) => (routesToChallenger(key, '2', 0.5) ? '2' : '1')),
  );
  const canaryShare = first.filter((v) => v === '2').length / KEYS.length;
  assert.ok(canaryShare > 0.35 && canaryShare < 0.65, `canary share ${canaryShare} at weight 0.5`);
  // Every key again, five times over, concurrently: never another version.
  for (let round = 0; round < 5; round++) assert.deepEqual(await versionsOf(KEYS), first, `round ${round}`);
});

test('the same key gets the same version from /v2 infer (parameters.routingKey) as from /v1', async () => {
  assert.equal((await deploy(0.5)).status, 200);
  const keys = KEYS.slice(0, 30);
  const v1 = await versionsOf(keys);
  for (const [i, routingKey] of keys.entries()) {
    const inputs = FEATURES.map((name) => ({ name, shape: [1], datatype: 'FP64', data: [ROW[name]] }));
    const { status, body } = await call(server.base, 'POST', `/v2/models/${MODEL}/infer`, { inputs, parameters: { routingKey } });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.model_version, v1[i], routingKey);
  }
});

test('stepping the weight up keeps every key that was in the canary there', async () => {
  assert.equal((await deploy(0.1)).status, 200);
  const low = await versionsOf(KEYS);
  assert.equal((await deploy(0.4)).status, 200);
  const high = await versionsOf(KEYS);
  const inCanary = (versions: string[]) => KEYS.filter((_, i) => versions[i] === '2');
  assert.ok(inCanary(low).length > 5, `${inCanary(low).length} keys in the canary at 0.1`);
  assert.ok(inCanary(high).length > inCanary(low).length, 'more keys in the canary at 0.4');
  for (const key of inCanary(low)) assert.ok(inCanary(high).includes(key), `${key} left the canary when its weight stepped up`);
});

test('requests without a key are still drawn at random', async () => {
  assert.equal((await deploy(0.5)).status, 200);
  const answers = await Promise.all(Array.from({ length: 60 }, () => predict({})));
  const versions = new Set(answers.map(({ body }) => body.predictions[0].version));
  // Both appear unless 60 fair draws all came out the same (probability 2^-59).
  assert.deepEqual([...versions].sort(), ['1', '2']);
});

test('a bad routingKey is a 400 naming the field, and nothing is logged', async () => {
  assert.equal((await deploy(0.5)).status, 200);
  const logged = await server.store.maxPredictionSeq(MODEL);
  for (const routingKey of ['', 'x'.repeat(257), 42, null, ['user-1'], { id: 'user-1' }]) {
    const v1 = await predict({ routingKey });
    assert.equal(v1.status, 400, JSON.stringify(routingKey));
    assert.match(v1.body.message, /invalid request body:\n {2}- routingKey: a string of 1 to 256 characters/);
    const inputs = FEATURES.map((name) => ({ name, shape: [1], datatype: 'FP64', data: [ROW[name]] }));
    const v2 = await call(server.base, 'POST', `/v2/models/${MODEL}/infer`, { inputs, parameters: { routingKey } });
    assert.equal(v2.status, 400, JSON.stringify(routingKey));
    assert.match(v2.body.error, /parameters\.routingKey/);
  }
  assert.equal(await server.store.maxPredictionSeq(MODEL), logged);
  // The longest key allowed is served.
  assert.equal((await predict({ routingKey: 'x'.repeat(256) })).status, 200);
});
