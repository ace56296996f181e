/**
 * `perennial label-queue` as a user runs it (a child process) against a real model server over
 * HTTP on a real SQLite file: a table of the predictions most worth labelling (or the server's
 * JSON), the tally of what the queue offered and what got feedback, and readable refusals.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { perennial } from '../bad-input/perennial-cli.ts';
import { call, eventually, featuresOf, startLocalServer, trainModel, weatherRows } from '../helpers/local-models.ts';
import { tempDir } from '../helpers/services.ts';
import { collect } from '../helpers/store-engines.ts';

const TOKEN = 'cli-label-queue-admin';
const MODEL = 'weather';
const weather = weatherRows();
let server: Awaited<ReturnType<typeof startLocalServer>>;
let served: Array<{ id: string; label: string; probabilities: Record<string, number> }> = [];

const labelQueue = (args: string[], token = TOKEN) =>
  perennial(['label-queue', ...args], { PERENNIAL_SERVING_URL: server.base, PERENNIAL_ADMIN_TOKEN: token });
const deploy = (body: Record<string, unknown>) =>
  call(server.base, 'PUT', `/admin/models/${MODEL}/deployment`, { ...body, reason: 'cli label queue' }, TOKEN);

before(async () => {
  const [v1, v2] = await Promise.all([trainModel(weather, 0, 1), trainModel(weather, 600, 2)]);
  server = await startLocalServer(join(tempDir(), 'perennial.sqlite'), TOKEN, { '1': v1, '2': v2 });
  assert.equal((await deploy({ champion: { version: '1' } })).status, 200);
  const { body } = await call(server.base, 'POST', `/v1/models/${MODEL}/predict`, {
    rows: weather.slice(1000, 1020).map((r) => featuresOf(r)),
  });
  served = body.predictions;
});

after(async () => {
  await server?.stop();
});

test('label-queue prints the least confident predictions as a table, and the tally', async () => {
  const result = await labelQueue([MODEL, '--limit', '5']);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trimEnd().split('\n');
  assert.match(lines[0], /^prediction id +version +predicted +confidence +made at +features$/);
  const leastConfident = [...served].sort((a, b) => a.probabilities[a.label] - b.probabilities[b.label]).slice(0, 5);
  leastConfident.forEach((p, i) => {
    const cells = lines[1 + i].split(/ {2,}/);
    assert.equal(cells[0], p.id);
    assert.equal(cells[1], '1 (champion)');
    assert.equal(cells[2], p.label);
    assert.equal(cells[3], p.probabilities[p.label].toFixed(3));
    assert.match(cells[5], /^precipitation=[\d.]+ temp_max=[\d.-]+ temp_min=[\d.-]+ wind=[\d.]+$/);
  });
  assert.equal(lines[6], '');
  assert.equal(
    lines[7],
    '5 predictions of weather worth labelling (confidence); the queue has offered 5 predictions of weather so far; 0 of them have feedback',
  );
});

test("label-queue --json prints the server's answer; feedback on an offered prediction shows in the tally", async () => {
  const first = JSON.parse((await labelQueue([MODEL, '--limit', '2', '--json'])).stdout);
  assert.equal(first.items.length, 2);
  const given = await call(server.base, 'POST', `/v1/models/${MODEL}/feedback`, {
    predictionId: first.items[0].predictionId,
    label: 'sun',
  });
  assert.equal(given.status, 200, given.text);
  const result = await labelQueue([MODEL, '--limit', '2', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const second = JSON.parse(result.stdout);
  assert.equal(second.strategy, 'confidence');
  assert.ok(!second.items.some((i: { predictionId: string }) => i.predictionId === first.items[0].predictionId));
  // All four were among the five offered by the first test: asking again offers nothing new.
  assert.deepEqual(second.summary, { offered: 5, labelled: 1 });
});

test("label-queue --strategy disagreement shows the shadow's answer next to the served one", async () => {
  const empty = await labelQueue([MODEL, '--strategy', 'disagreement']);
  assert.equal(empty.code, 0, empty.stderr);
  assert.match(
    empty.stdout,
    /^weather: no unlabelled prediction that a second model \(a shadow, or the other of champion and canary\) answered too\n/,
  );

  assert.equal((await deploy({ champion: { version: '1' }, shadow: { version: '2' } })).status, 200);
  const watermark = await server.store.maxPredictionSeq(MODEL);
  await call(server.base, 'POST', `/v1/models/${MODEL}/predict`, { rows: weather.slice(1300, 1310).map((r) => featuresOf(r)) });
  await eventually('the shadow predictions', async () =>
    (await collect(server.store.exportLog(MODEL, { afterSeq: watermark }))).length === 20 ? true : undefined,
  );
  const result = await labelQueue([MODEL, '--strategy', 'disagreement', '-n', '3']);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trimEnd().split('\n');
  assert.match(lines[0], /^prediction id +version +predicted +other model +disagreement +made at +features$/);
  for (const line of lines.slice(1, 4))
    assert.match(line, /\(champion\) +\w+ +\w+ \(v2 shadow\) +[01]\.\d{3} +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +precipitation=/);
  assert.match(lines[5], /^3 predictions of weather worth labelling \(disagreement\)/);
});

test('refusals exit 1 with the reason', async () => {
  const badLimit = await labelQueue([MODEL, '--limit', '0']);
  assert.equal(badLimit.code, 1);
  assert.match(
    badLimit.stderr,
    /perennial: the model server refused the label queue \(HTTP 400\): invalid query:\n {2}- limit: a whole number from 1 to 500/,
  );
  const badStrategy = await labelQueue([MODEL, '--strategy', 'random']);
  assert.equal(badStrategy.code, 1);
  assert.match(badStrategy.stderr, /--strategy.*random.*Allowed choices are confidence, disagreement/);
  const unknown = await labelQueue(['no-such-model']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /HTTP 404\): model no-such-model is not deployed/);
  const badToken = await labelQueue([MODEL], 'not-the-token');
  assert.equal(badToken.code, 1);
  assert.match(badToken.stderr, /HTTP 401\): admin endpoints need the header/);
});
