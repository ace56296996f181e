/**
 * `perennial export` as a user runs it (a child process) against a real model server over HTTP
 * on a real SQLite file: the file it writes holds what was served, and a refused export leaves
 * no file behind.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { perennial } from '../bad-input/perennial-cli.ts';
import { call, featuresOf, startLocalServer, trainModel, weatherRows } from '../helpers/local-models.ts';
import { tempDir } from '../helpers/services.ts';

const TOKEN = 'cli-export-admin';
const MODEL = 'weather';
const dir = tempDir();
let server: Awaited<ReturnType<typeof startLocalServer>>;
let served: Array<{ id: string; label: string }> = [];

const exportCli = (args: string[], token = TOKEN) =>
  perennial(['export', MODEL, ...args], { PERENNIAL_SERVING_URL: server.base, PERENNIAL_ADMIN_TOKEN: token });

before(async () => {
  const weather = weatherRows();
  server = await startLocalServer(join(dir, 'perennial.sqlite'), TOKEN, { '1': await trainModel(weather, 0, 1) });
  assert.equal(
    (await call(server.base, 'PUT', `/admin/models/${MODEL}/deployment`, { champion: { version: '1' }, reason: 'cli' }, TOKEN)).status,
    200,
  );
  for (const from of [100, 200]) {
    const { body } = await call(server.base, 'POST', `/v1/models/${MODEL}/predict`, {
      rows: weather.slice(from, from + 5).map((r) => featuresOf(r)),
    });
    served = [...served, ...body.predictions];
  }
  assert.equal((await call(server.base, 'POST', `/v1/models/${MODEL}/feedback`, { predictionId: served[0].id, label: 'fog' })).status, 200);
});

after(async () => {
  await server?.stop();
});

test('export writes NDJSON to the file, with progress on stderr', async () => {
  const out = join(dir, 'log.ndjson');
  const result = await exportCli(['--out', out]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, new RegExp(`^10 predictions of ${MODEL} written to .*log\\.ndjson \\(ndjson, \\d+ bytes\\)`));
  assert.match(result.stderr, /perennial: \d+ rows \(\d+ bytes\) so far/);
  const rows = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.deepEqual(
    rows.map((r) => [r.id, r.prediction]),
    served.map((p) => [p.id, p.label]),
  );
  assert.deepEqual(rows[0].feedback.label, 'fog');
  assert.equal(existsSync(`${out}.partial`), false);
});

test('export --since takes the predictions after a seq; a .csv file gets CSV', async () => {
  const all = readFileSync(join(dir, 'log.ndjson'), 'utf8').trim().split('\n');
  const fifth = JSON.parse(all[4]).seq as number;
  const out = join(dir, 'later.csv');
  const result = await exportCli(['--out', out, '--since', String(fifth)]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^5 predictions of weather written to .*later\.csv \(csv,/);
  const records = parseCsv(readFileSync(out, 'utf8'), { columns: true }) as Array<Record<string, string>>;
  assert.deepEqual(
    records.map((r) => r.id),
    served.slice(5).map((p) => p.id),
  );
});

test('a refused export exits 1 with the reason and leaves no file', async () => {
  const out = join(dir, 'refused.ndjson');
  const badSince = await exportCli(['--out', out, '--since', 'last tuesday']);
  assert.equal(badSince.code, 1);
  assert.match(badSince.stderr, /perennial: the model server refused the export \(HTTP 400\): invalid query:\n {2}- since: /);
  const badToken = await exportCli(['--out', out], 'not-the-token');
  assert.equal(badToken.code, 1);
  assert.match(badToken.stderr, /HTTP 401\): admin endpoints need the header/);
  const badFormat = await exportCli(['--out', out, '--format', 'xml']);
  assert.equal(badFormat.code, 1);
  assert.match(badFormat.stderr, /--format.*xml.*Allowed choices are csv, ndjson/);
  assert.equal(existsSync(out), false);
  assert.equal(existsSync(`${out}.partial`), false);
});
