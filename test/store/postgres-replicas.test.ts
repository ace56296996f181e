/**
 * Model-server replicas: two serving/main.ts processes on one Postgres database, loading real
 * models from a real MLflow server, under load on both. A deployment change made through either
 * reaches the other (LISTEN/NOTIFY; the poll when LISTEN is off), each loads the new version
 * before switching, and the canary split holds across them: no failed request, every prediction
 * logged once. A request's routingKey gets the same version from either replica, through a canary
 * stepped up to an A/B split.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { MlflowClient } from '../../adapters/mlflow/client.ts';
import { openStore } from '../../adapters/store/index.ts';
import type { ModelFiles } from '../../core/contracts.ts';
import { routesToChallenger } from '../../core/sticky-assignment.ts';
import { call, eventually, featuresOf, startLocalServer, trainModel, weatherRows } from '../helpers/local-models.ts';
import { freshDatabaseUrl } from '../helpers/postgres.ts';
import { registerVersion, startLoad, startReplica, type Outcome, type Replica } from '../helpers/replicas.ts';
import { mlflowUrl } from '../helpers/services.ts';
import { collect } from '../helpers/store-engines.ts';
import { scrape } from '../helpers/prometheus.ts';

const TOKEN = 'replicas-admin';
// Unique per run: under `npm test` every test file shares one MLflow server.
const MODEL = `weather-${randomUUID().slice(0, 8)}`;
const CANARY_WEIGHT = 0.3;
/** The canary's share of the requests sent while both replicas served it, in points: 3.4 standard deviations at 1,000 requests. */
const TOLERANCE = 0.05;
const WINDOW_REQUESTS = 1000;
const CLIENTS_PER_REPLICA = 8;
/** Routing keys, each sent to both replicas: their share of the challenger within 4 standard deviations (0.089 at weight 0.5). */
const KEYS = 500;
const KEY_TOLERANCE = 0.089;
const KEY_CONCURRENCY = 16;

const weather = weatherRows();
const rows = weather.slice(1000, 1200).map((r) => featuresOf(r));
let mlflowUri: string;
const files: { v1?: ModelFiles; v2?: ModelFiles } = {};
const versions = { v1: '', v2: '' };

before(async () => {
  mlflowUri = await mlflowUrl();
  // Patient: the machine is shared, and MLflow's first answers can be slow.
  const mlflow = new MlflowClient(mlflowUri, { timeoutMs: 120_000, retries: 4 });
  [files.v1, files.v2] = await Promise.all([trainModel(weather, 0, 1), trainModel(weather, 300, 2)]);
  versions.v1 = await registerVersion(mlflow, MODEL, 'v1', files.v1);
  versions.v2 = await registerVersion(mlflow, MODEL, 'v2', files.v2);
  await mlflow.close();
});

const deploy = (replica: Replica, body: unknown) => call(replica.base, 'PUT', `/admin/models/${MODEL}/deployment`, body, TOKEN);
const champion = () => ({ champion: { version: versions.v1 }, reason: 'champion' });
const canary = () => ({ ...champion(), canary: { version: versions.v2, weight: CANARY_WEIGHT }, reason: 'canary' });

/** Polls the replica's deployment until `check` holds; when it did, on `now`'s clock. */
async function servedWhen(replica: Replica, check: (state: { canary?: { version: string } }) => boolean, now: () => number) {
  return eventually(`${replica.base} to serve the change`, async () => {
    const { status, body } = await call(replica.base, 'GET', `/v1/models/${MODEL}/deployment`);
    return status === 200 && check(body) ? now() : undefined;
  });
}

async function startReplicas(url: string, env: Record<string, string> = {}) {
  const common = { PERENNIAL_DATABASE_URL: url, MLFLOW_TRACKING_URI: mlflowUri, PERENNIAL_ADMIN_TOKEN: TOKEN, ...env };
  return Promise.all([startReplica(common), startReplica(common)]);
}

test('two replicas under load: a canary started through one and rolled back through the other', async (t) => {
  const url = await freshDatabaseUrl();
  const [a, b] = await startReplicas(url);
  try {
    assert.equal((await deploy(a, champion())).status, 200);
    await servedWhen(
      b,
      () => true,
      () => 0,
    );

    const load = startLoad([a.base, b.base], `/v1/models/${MODEL}/predict`, rows, CLIENTS_PER_REPLICA);
    await new Promise((resolve) => setTimeout(resolve, 500));

    // (a) The canary, started through A.
    const canarySent = load.now();
    const started = await deploy(a, canary());
    assert.equal(started.status, 200, started.text);
    const onA = load.now();
    const onB = await servedWhen(b, (s) => s.canary?.version === versions.v2, load.now);
    const canaryFrom = Math.max(onA, onB);
    await eventually(
      'enough requests with the canary on both replicas',
      async () => {
        const inWindow = load.outcomes.filter((o) => o.sentMs >= canaryFrom).length;
        return inWindow >= WINDOW_REQUESTS ? true : undefined;
      },
      300_000,
    );

    // (b) The rollback, through B.
    const rollbackSent = load.now();
    const rolledBack = await deploy(b, champion());
    assert.equal(rolledBack.status, 200, rolledBack.text);
    const offB = load.now();
    const offA = await servedWhen(a, (s) => s.canary === undefined, load.now);
    const championFrom = Math.max(offA, offB);
    await eventually(
      'requests after the rollback',
      async () => (load.outcomes.filter((o) => o.sentMs >= championFrom).length >= 200 ? true : undefined),
      300_000,
    );
    const outcomes = await load.stop();

    const failed = outcomes.filter((o) => o.status !== 200);
    assert.deepEqual(failed.slice(0, 5), [], `${failed.length} of ${outcomes.length} requests failed`);

    const window = outcomes.filter((o) => o.sentMs >= canaryFrom && o.answeredMs <= rollbackSent);
    const share = (os: Outcome[]) => os.filter((o) => o.version === versions.v2).length / os.length;
    const perReplica = [0, 1].map((r) => share(window.filter((o) => o.replica === r)));
    assert.ok(Math.abs(share(window) - CANARY_WEIGHT) <= TOLERANCE, `canary share ${share(window)} over ${window.length} requests`);
    // Each replica alone: 500-odd requests, so a wider tolerance (about 3.5 standard deviations).
    for (const s of perReplica) assert.ok(Math.abs(s - CANARY_WEIGHT) <= 0.07, `canary share per replica ${perReplica}`);
    assert.ok(
      outcomes.filter((o) => o.sentMs >= championFrom).every((o) => o.version === versions.v1),
      'no canary answers once both replicas rolled back',
    );

    const store = await openStore(url);
    try {
      const logged = (await collect(store.exportLog(MODEL, { afterSeq: 0 }))).map((p) => p.id);
      const answered = outcomes.map((o) => o.id!);
      assert.equal(new Set(logged).size, logged.length, 'no prediction logged twice');
      assert.deepEqual(logged.sort(), answered.sort(), 'every prediction answered is logged, once');
    } finally {
      await store.close();
    }
    t.diagnostic(
      JSON.stringify({
        requests: outcomes.length,
        failed: failed.length,
        canaryWindow: { requests: window.length, share: share(window), perReplica },
        // From sending the change to the other replica serving it, and from the changing replica's answer (its commit) on.
        propagationMs: { canaryToB: Math.round(onB - canarySent), rollbackToA: Math.round(offA - rollbackSent) },
        afterCommitMs: { canaryToB: Math.round(onB - onA), rollbackToA: Math.round(offA - offB) },
        adminResponseMs: { canaryOnA: Math.round(onA - canarySent), rollbackOnB: Math.round(offB - rollbackSent) },
      }),
    );
    assert.ok(
      b.output.some((l) => l.includes('deployment changed elsewhere: now serving it')),
      b.output.join('\n'),
    );
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

/** The version each key's one-row request is answered with by `replica`, KEY_CONCURRENCY requests at a time. */
async function versionsByKey(replica: Replica, keys: string[]): Promise<string[]> {
  const versionOf: string[] = [];
  let next = 0;
  const client = async () => {
    for (let i = next++; i < keys.length; i = next++) {
      const { status, body, text } = await call(replica.base, 'POST', `/v1/models/${MODEL}/predict`, {
        rows: [rows[i % rows.length]],
        routingKey: keys[i],
      });
      assert.equal(status, 200, text);
      versionOf[i] = body.predictions[0].version;
    }
  };
  await Promise.all(Array.from({ length: KEY_CONCURRENCY }, client));
  return versionOf;
}

test('routing keys are sticky across replicas: a canary and an A/B split set through different replicas', async () => {
  const [a, b] = await startReplicas(await freshDatabaseUrl());
  const keys = Array.from({ length: KEYS }, (_, i) => `user-${i}`);
  const challenger = (versionOf: string[]) => keys.filter((_, i) => versionOf[i] === versions.v2);
  try {
    const phases = [
      { through: a, weight: 0.2 },
      // The canary stepped up to an even split, through the other replica.
      { through: b, weight: 0.5 },
    ];
    let before: string[] = [];
    for (const { through, weight } of phases) {
      const state = { champion: { version: versions.v1 }, canary: { version: versions.v2, weight }, reason: `canary at ${weight}` };
      assert.equal((await deploy(through, state)).status, 200);
      for (const replica of [a, b])
        await servedWhen(
          replica,
          (s) => (s as typeof state).canary?.weight === weight,
          () => 0,
        );
      // Every key on A, on B, then on A again: one version per key.
      const [onA, onB, againOnA] = [await versionsByKey(a, keys), await versionsByKey(b, keys), await versionsByKey(a, keys)];
      const split = challenger(onA).length / KEYS;
      for (const [name, answers] of Object.entries({ onB, againOnA }))
        assert.deepEqual(challenger(answers), challenger(onA), `${name}: keys answered by the challenger at weight ${weight}`);
      assert.deepEqual(
        challenger(onA),
        keys.filter((key) => routesToChallenger(key, versions.v2, weight)),
        'the keys core/sticky-assignment.ts places with the challenger',
      );
      assert.ok(Math.abs(split - weight) <= KEY_TOLERANCE, `challenger share ${split} at weight ${weight} over ${KEYS} keys`);
      for (const key of before) assert.ok(challenger(onA).includes(key), `${key} left the canary when its weight stepped up`);
      before = challenger(onA);
    }
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

test('with LISTEN off, a change still reaches the other replica through the poll', async (t) => {
  const [a, b] = await startReplicas(await freshDatabaseUrl(), {
    PERENNIAL_DEPLOYMENT_LISTEN: 'off',
    PERENNIAL_DEPLOYMENT_POLL_MS: '1000',
  });
  try {
    const clock = performance.now.bind(performance);
    // Measured from the changing replica's answer: the change is committed by then.
    assert.equal((await deploy(a, champion())).status, 200);
    let committed = clock();
    const championOnB = (await servedWhen(b, () => true, clock)) - committed;
    assert.equal((await deploy(b, canary())).status, 200);
    committed = clock();
    const canaryOnA = (await servedWhen(a, (s) => s.canary?.version === versions.v2, clock)) - committed;
    t.diagnostic(
      JSON.stringify({ pollMs: 1000, propagationMs: { championOnB: Math.round(championOnB), canaryOnA: Math.round(canaryOnA) } }),
    );
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

test('a replica that cannot load the new version keeps the old deployment, and follows the next change', async () => {
  const url = await freshDatabaseUrl();
  const a = await startLocalServer(url, TOKEN, { '1': files.v1!, '2': files.v2! });
  const bVersions: Record<string, ModelFiles> = { '1': files.v1! }; // B's registry lacks version 2, for now
  const b = await startLocalServer(url, TOKEN, bVersions);
  try {
    assert.equal(
      (await call(a.base, 'PUT', `/admin/models/${MODEL}/deployment`, { champion: { version: '1' }, reason: 'first' }, TOKEN)).status,
      200,
    );
    await eventually('B to serve version 1', async () =>
      (await call(b.base, 'GET', `/v1/models/${MODEL}/deployment`)).status === 200 ? true : undefined,
    );
    const withCanary = (weight: number) => ({ champion: { version: '1' }, canary: { version: '2', weight }, reason: 'canary' });
    assert.equal((await call(a.base, 'PUT', `/admin/models/${MODEL}/deployment`, withCanary(0.5), TOKEN)).status, 200);

    const failures = async () =>
      (await scrape(`${b.base}/metrics`)).get('perennial_deployment_follow_total')?.samples.find((s) => s.labels.outcome === 'failed')
        ?.value ?? 0;
    await eventually('B to fail loading version 2', async () => ((await failures()) >= 1 ? true : undefined));
    const onB = await call(b.base, 'GET', `/v1/models/${MODEL}/deployment`);
    assert.equal(onB.body.canary, undefined, 'B still serves the old deployment');
    const predicted = await call(b.base, 'POST', `/v1/models/${MODEL}/predict`, { rows: rows.slice(0, 20) });
    assert.equal(predicted.status, 200, predicted.text);
    assert.ok(predicted.body.predictions.every((p: { version: string }) => p.version === '1'));

    // Version 2 becomes loadable; the next change is followed.
    bVersions['2'] = files.v2!;
    assert.equal((await call(a.base, 'PUT', `/admin/models/${MODEL}/deployment`, withCanary(0.6), TOKEN)).status, 200);
    await eventually('B to serve the canary', async () => {
      const { body } = await call(b.base, 'GET', `/v1/models/${MODEL}/deployment`);
      return body.canary?.weight === 0.6 ? true : undefined;
    });
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});
