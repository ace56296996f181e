/**
 * Two model servers sharing one Postgres database, over HTTP: predictions made on either are
 * logged once, feedback sent to the other server finds them (idempotent, conflicts refused),
 * and the log export of either has all of it. The store's group commit (writeLog) under real
 * traffic, on the engine replicas need.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { call, featuresOf, startLocalServer, trainModel, weatherRows } from '../helpers/local-models.ts';
import { freshDatabaseUrl } from '../helpers/postgres.ts';

const TOKEN = 'postgres-serving-admin';
const MODEL = 'weather';

test('two model servers on one Postgres database: one log, feedback across them, one export', async () => {
  const weather = weatherRows();
  const url = await freshDatabaseUrl();
  const versions = { '1': await trainModel(weather, 0, 1) };
  const a = await startLocalServer(url, TOKEN, versions);
  const deployed = await call(a.base, 'PUT', `/admin/models/${MODEL}/deployment`, { champion: { version: '1' }, reason: 'first' }, TOKEN);
  assert.equal(deployed.status, 200, deployed.text);
  // Started after the deployment, the second server reads it from the shared database.
  const b = await startLocalServer(url, TOKEN, versions);
  try {
    const rows = (from: number) => weather.slice(from, from + 3).map((r) => featuresOf(r));
    // Twenty requests at once, half to each server: their log writes batch into group commits.
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => call(i % 2 ? b.base : a.base, 'POST', `/v1/models/${MODEL}/predict`, { rows: rows(i * 3) })),
    );
    const predictions = answers.flatMap(({ status, body }, i) => {
      assert.equal(status, 200, JSON.stringify(body));
      return (body.predictions as Array<{ id: string; label: string }>).map((p) => ({ ...p, servedBy: i % 2 ? b : a }));
    });
    assert.equal(predictions.length, 60);

    // Feedback on each prediction to the server that did not make it, all at once.
    const other = (p: (typeof predictions)[number]) => (p.servedBy === a ? b : a);
    const feedback = await Promise.all(
      predictions.map((p) => call(other(p).base, 'POST', `/v1/models/${MODEL}/feedback`, { predictionId: p.id, label: p.label })),
    );
    assert.deepEqual(new Set(feedback.map((f) => f.status)), new Set([200]));
    const again = await call(a.base, 'POST', `/v1/models/${MODEL}/feedback`, {
      predictionId: predictions[1].id,
      label: predictions[1].label,
    });
    assert.deepEqual(again.body, { accepted: 1 }, 'idempotent across servers');
    const relabel = predictions[1].label === 'sun' ? 'rain' : 'sun';
    const conflict = await call(a.base, 'POST', `/v1/models/${MODEL}/feedback`, { predictionId: predictions[1].id, label: relabel });
    assert.equal(conflict.status, 409, conflict.text);

    for (const server of [a, b]) {
      const exported = await call(server.base, 'GET', `/v1/models/${MODEL}/log?since=0`, undefined, TOKEN);
      assert.equal(exported.status, 200, exported.text);
      const lines = exported.text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { id: string; prediction: string; feedback: { label: string } | null });
      assert.deepEqual(lines.map((l) => l.id).sort(), predictions.map((p) => p.id).sort(), 'every prediction logged once');
      assert.ok(lines.every((l) => l.feedback?.label === l.prediction));
    }
    assert.equal(await a.store.countPredictionsSince(MODEL, 0), 60);
    assert.equal((await b.store.feedbackSince(MODEL, 0)).length, 60);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});
