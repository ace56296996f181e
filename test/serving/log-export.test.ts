/**
 * GET /v1/models/:model/log over HTTP on a real SQLite file: predictions and feedback go in
 * through the server's own routes, come out as NDJSON and CSV, and are parsed back and compared
 * with what was sent.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { CLASSES, FEATURES, call, featuresOf, startLocalServer, trainModel, weatherRows } from '../helpers/local-models.ts';
import { tempDir } from '../helpers/services.ts';

const TOKEN = 'export-test-admin';
const MODEL = 'weather';
const weather = weatherRows();

let server: Awaited<ReturnType<typeof startLocalServer>>;

interface Served {
  id: string;
  label: string;
  probabilities: Record<string, number>;
  version: string;
  role: string;
}
/** What the test sent and was answered, by prediction id. */
const sent = new Map<string, { features: Record<string, unknown>; served: Served; feedback?: { kind: string; label: string | null } }>();

const api = (method: string, path: string, body?: unknown, token?: string) => call(server.base, method, path, body, token);

async function predict(rows: Array<Record<string, unknown>>): Promise<Served[]> {
  const { status, body } = await api('POST', `/v1/models/${MODEL}/predict`, { rows });
  assert.equal(status, 200, JSON.stringify(body));
  body.predictions.forEach((p: Served, i: number) => sent.set(p.id, { features: rows[i], served: p }));
  return body.predictions;
}

async function exportLog(query: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.base}/v1/models/${MODEL}/log${query}`, {
    headers: { authorization: `Bearer ${TOKEN}`, ...headers },
  });
  return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
}

const ndjson = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));

before(async () => {
  const [v1, v2] = await Promise.all([trainModel(weather, 0, 1), trainModel(weather, 300, 2)]);
  server = await startLocalServer(join(tempDir(), 'perennial.sqlite'), TOKEN, { '1': v1, '2': v2 });
  const deployed = await api(
    'PUT',
    `/admin/models/${MODEL}/deployment`,
    { champion: { version: '1' }, canary: { version: '2', weight: 0.5 }, reason: 'export test' },
    TOKEN,
  );
  assert.equal(deployed.status, 200, deployed.text);

  const rows = weather.slice(1000, 1012).map((r) => featuresOf(r));
  rows[1].wind = null;
  // A wrong-typed value is served as missing and logged as sent: quotes, a comma and a newline for CSV.
  rows[2].wind = 'gusty, "very"\nstrong';
  for (let i = 0; i < rows.length; i += 4) await predict(rows.slice(i, i + 4));

  const ids = [...sent.keys()];
  const feedback = [
    { predictionId: ids[0], label: 'rain' },
    { predictionId: ids[1], kind: 'accepted' },
    { predictionId: ids[2], kind: 'overridden', label: 'snow' },
    { predictionId: ids[3], kind: 'overridden' },
  ];
  const given = await api('POST', `/v1/models/${MODEL}/feedback`, { feedback });
  assert.equal(given.status, 200, given.text);
  sent.get(ids[0])!.feedback = { kind: 'label', label: 'rain' };
  sent.get(ids[1])!.feedback = { kind: 'accepted', label: sent.get(ids[1])!.served.label };
  sent.get(ids[2])!.feedback = { kind: 'overridden', label: 'snow' };
  sent.get(ids[3])!.feedback = { kind: 'overridden', label: null };
});

after(async () => {
  await server?.stop();
});

test('NDJSON: every served prediction with its inputs, output and feedback, in seq order', async () => {
  const { status, type, text } = await exportLog('?format=ndjson');
  assert.equal(status, 200, text);
  assert.match(type, /^application\/x-ndjson/);
  const rows = ndjson(text);
  assert.deepEqual(
    rows.map((r) => r.id),
    [...sent.keys()],
  );
  assert.deepEqual(
    rows.map((r) => r.seq),
    [...rows.map((r) => r.seq)].sort((a, b) => a - b),
  );
  for (const row of rows) {
    const { features, served, feedback } = sent.get(row.id)!;
    assert.deepEqual(row.features, features);
    assert.deepEqual(
      [row.prediction, row.probabilities, row.version, row.role, row.task, row.shadowOf],
      [served.label, served.probabilities, served.version, served.role, 'classification', null],
    );
    assert.equal(row.confidence, served.probabilities[served.label]);
    assert.match(row.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    if (feedback) {
      assert.deepEqual({ kind: row.feedback.kind, label: row.feedback.label }, feedback);
      assert.equal(row.feedback.source, 'anonymous');
    } else assert.equal(row.feedback, null);
  }
});

test('CSV: one column per feature and class, quoted where needed, the same values', async () => {
  // Asked for by the Accept header alone.
  const { status, type, text } = await exportLog('', { accept: 'text/csv' });
  assert.equal(status, 200, text);
  assert.match(type, /^text\/csv/);
  const records = parseCsv(text, { columns: true }) as Array<Record<string, string>>;
  assert.deepEqual(Object.keys(records[0]), [
    'seq',
    'id',
    'createdAt',
    'version',
    'role',
    'task',
    'shadowOf',
    ...FEATURES.map((f) => `features.${f}`),
    'prediction',
    'confidence',
    ...CLASSES.map((c) => `probabilities.${c}`),
    'feedback.kind',
    'feedback.label',
    'feedback.source',
    'feedback.createdAt',
  ]);
  assert.deepEqual(
    records.map((r) => r.id),
    [...sent.keys()],
  );
  const cell = (value: unknown) => (value === null || value === undefined ? '' : String(value));
  for (const r of records) {
    const { features, served, feedback } = sent.get(r.id)!;
    for (const f of FEATURES) assert.equal(r[`features.${f}`], cell(features[f]), `${r.id} ${f}`);
    for (const c of CLASSES) assert.equal(Number(r[`probabilities.${c}`]), served.probabilities[c]);
    assert.deepEqual([r.prediction, r.version, r.role, r.shadowOf], [served.label, served.version, served.role, '']);
    assert.deepEqual([r['feedback.kind'], r['feedback.label']], [cell(feedback?.kind), cell(feedback?.label)]);
  }
  assert.equal(records[2]['features.wind'], 'gusty, "very"\nstrong');
});

test('since: a seq gives the predictions after it, a time those made at or after it', async () => {
  const all = ndjson((await exportLog('')).text);
  const after = ndjson((await exportLog(`?since=${all[3].seq}`)).text);
  assert.deepEqual(
    after.map((r) => r.id),
    all.slice(4).map((r) => r.id),
  );
  const fromTime = ndjson((await exportLog(`?since=${encodeURIComponent(all[4].createdAt)}`)).text);
  assert.ok(fromTime.length >= all.length - 4, 'every prediction made since then');
  assert.ok(
    fromTime.every((r) => r.createdAt >= all[4].createdAt),
    'none made before',
  );
  assert.equal((await exportLog('?since=2999-01-01')).text, '', 'nothing yet');
  assert.equal(ndjson((await exportLog('?since=0&format=ndjson')).text).length, all.length);
});

test('bad since, format or query keys are a 400 naming the field; nothing is streamed', async () => {
  const cases: Array<[string, RegExp]> = [
    ['?since=yesterday', /since: a prediction seq .* or an ISO time/],
    ['?since=-3', /since: /],
    ['?since=2026-12-01T08:00:00', /since: /], // a time without its zone is ambiguous
    ['?since=2026-13-45T00:00:00Z', /since: /],
    ['?format=xml', /format: csv or ndjson/],
    ['?sinec=3', /Unrecognized key.*sinec/],
  ];
  for (const [query, message] of cases) {
    const { status, text } = await exportLog(query);
    assert.equal(status, 400, `${query}: ${text}`);
    assert.match(JSON.parse(text).message, message, query);
  }
  const badName = await fetch(`${server.base}/v1/models/Not_A_Model/log`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(badName.status, 400);
});

test('the export needs the admin token', async () => {
  for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: TOKEN }] as Array<Record<string, string>>) {
    const response = await fetch(`${server.base}/v1/models/${MODEL}/log`, { headers });
    assert.equal(response.status, 401);
    assert.match(((await response.json()) as { message: string }).message, /Authorization: Bearer/);
  }
});

test('a large log streams in pages, and the server keeps logging while a client reads slowly', async () => {
  const before = await server.store.maxPredictionSeq(MODEL);
  const row = featuresOf(weather[5]);
  // Far more than the server, the sockets and the client buffer between them (~7 MB of NDJSON).
  const bulk = Array.from({ length: 30_000 }, (_, i) => ({
    id: `bulk-${i}`,
    model: MODEL,
    version: '1',
    role: 'champion' as const,
    features: { ...row, wind: i },
    label: 'sun',
    confidence: 0.5,
    probabilities: { sun: 0.5, rain: 0.5 },
  }));
  await server.store.logPredictions(bulk);

  // Read one chunk of the export and stop reading: the rest waits on the server.
  const response = await fetch(`${server.base}/v1/models/${MODEL}/log?since=${before}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const reader = response.body!.getReader();
  const first = await reader.read();
  assert.ok(first.value && first.value.length > 0);
  // Meanwhile predictions are served and logged (an open read cursor would refuse these writes).
  const served = await predict([featuresOf(weather[7])]).catch(async (err: unknown) => {
    await reader.cancel(); // else the open export keeps the server from closing
    throw err;
  });
  let text = new TextDecoder().decode(first.value);
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += new TextDecoder().decode(chunk.value);

  const rows = ndjson(text);
  const bulkRows = rows.filter((r) => r.id.startsWith('bulk-'));
  assert.equal(bulkRows.length, bulk.length);
  assert.deepEqual(
    bulkRows.map((r) => r.features.wind),
    bulk.map((_, i) => i),
  );
  assert.equal(new Set(rows.map((r) => r.seq)).size, rows.length, 'no row twice across pages');
  assert.ok(
    rows.some((r) => r.id === served[0].id),
    'a row committed during the export, after the pages read so far, is in it',
  );
});

test("a regression model's predictions and true values are numbers in NDJSON", async () => {
  await server.store.logPredictions([
    {
      id: 'h1',
      model: 'house',
      version: '1',
      role: 'champion',
      task: 'regression',
      features: { rooms: 3 },
      label: '12.5',
      confidence: null,
      probabilities: {},
    },
  ]);
  await server.store.addFeedback('h1', 14.25, 'house', 'crm');
  const response = await fetch(`${server.base}/v1/models/house/log`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const [row] = ndjson(await response.text());
  assert.deepEqual(
    [row.task, row.prediction, row.confidence, row.probabilities, row.feedback.label, row.feedback.source],
    ['regression', 12.5, null, {}, 14.25, 'crm'],
  );
});
