/**
 * The pure parts of the model server's batching: when a batch is handed over, how results are
 * split back per request, how predict rows are read (and refused, in the schema's words), and
 * the settings from the environment.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Batcher, splitByCounts } from '../../serving/batcher.ts';
import { anyRows, rowReader } from '../../serving/rows.ts';
import { batchSettingsFromEnv, DEFAULT_BATCH_SETTINGS } from '../../serving/settings.ts';

function recorder(settings: { maxDelayMs: number; maxRows: number }) {
  const batches: string[][] = [];
  const batcher = new Batcher<string>(settings, (items) => batches.push(items));
  return { batcher, batches };
}

test('with no delay, what arrives in one turn of the event loop is one batch, in arrival order', async () => {
  const { batcher, batches } = recorder({ maxDelayMs: 0, maxRows: 100 });
  batcher.add('a', 1);
  batcher.add('b', 3);
  batcher.add('c', 1);
  assert.deepEqual(batches, [], 'nothing runs before the turn ends');
  await nextTurn();
  batcher.add('d', 1);
  await nextTurn();
  assert.deepEqual(batches, [['a', 'b', 'c'], ['d']]);
  assert.deepEqual(batcher.stats(), { batches: 2, items: 4, rows: 6, largestBatch: 3 });
});

test('a batch is handed over as soon as it holds maxRows rows, never more (one larger item goes alone)', () => {
  const { batcher, batches } = recorder({ maxDelayMs: 60_000, maxRows: 4 });
  batcher.add('a', 2);
  batcher.add('b', 2); // full: runs now
  batcher.add('c', 3);
  batcher.add('d', 2); // would make 5: c goes first
  batcher.add('e', 10); // alone, and d before it
  assert.deepEqual(batches, [['a', 'b'], ['c'], ['d'], ['e']]);
  batcher.add('f', 1);
  batcher.flush();
  assert.deepEqual(batches.at(-1), ['f']);
  batcher.flush(); // nothing waits: no empty batch
  assert.equal(batcher.stats().batches, 5);
});

test('with a delay, the first item waits for company until the timer, then everything goes', async () => {
  let ran!: (items: string[]) => void;
  const batch = new Promise<string[]>((resolve) => (ran = resolve));
  const batcher = new Batcher<string>({ maxDelayMs: 30, maxRows: 100 }, ran);
  batcher.add('a', 1);
  await nextTurn(); // with no delay, 'a' would have gone alone by now
  batcher.add('b', 1);
  assert.deepEqual(await batch, ['a', 'b']);
  assert.equal(batcher.stats().batches, 1);
});

test('splitByCounts gives each request its own consecutive results, and refuses a count mismatch', () => {
  assert.deepEqual(splitByCounts([1, 2, 3, 4, 5, 6], [1, 3, 2]), [[1], [2, 3, 4], [5, 6]]);
  assert.deepEqual(splitByCounts([], []), []);
  assert.throws(() => splitByCounts([1, 2], [1, 2]), /2 results for 3 rows/);
});

test('a deployment reader accepts scalars with every feature, and returns the rows as sent', () => {
  const read = rowReader(['a', 'b']);
  const rows = [
    { a: 1, b: 'x' },
    { a: null, b: true, extra: 'kept' },
  ];
  assert.equal(read({ rows }), rows);
});

test('a refused body is worded as the schema and the feature check word it, naming the field', () => {
  const read = rowReader(['precipitation', 'wind']);
  const cases: Array<[unknown, RegExp]> = [
    [{}, /invalid request body:\n {2}- rows: /],
    [{ rows: 'all' }, /- rows: /],
    [{ rows: [] }, /rows: send at least one row/],
    [{ rows: Array.from({ length: 1001 }, () => ({ precipitation: 0, wind: 1 })) }, /rows: send at most 1000 rows per request/],
    [{ rows: [[1, 2]] }, /- rows\.0: /],
    [{ rows: [{ precipitation: 0, wind: { speed: 3 } }] }, /- rows\.0\.wind: /],
    [null, /invalid request body/],
    [
      { rows: [{ precipitation: 0, wind: 1 }, { precipitation: 0 }] },
      /rows lack features the model needs \(precipitation, wind; .*\n {2}- rows\.1: missing wind$/,
    ],
  ];
  for (const [body, message] of cases) assert.throws(() => read(body), message, JSON.stringify(body)?.slice(0, 80));
  // A row's shape is checked before its features: a missing feature is not reported with a bad value.
  assert.throws(
    () => read({ rows: [{ wind: [] }] }),
    (err: Error) => /rows\.0\.wind/.test(err.message) && !/missing/.test(err.message),
  );
});

test('a model that is not deployed still gets the shape checks, but no feature check', () => {
  assert.deepEqual(anyRows({ rows: [{ anything: 1 }] }), [{ anything: 1 }]);
  assert.throws(() => anyRows({ rows: [{ anything: {} }] }), /rows\.0\.anything/);
});

test('batching settings come from the environment, with defaults, and a bad value names its variable', () => {
  assert.deepEqual(batchSettingsFromEnv({}), DEFAULT_BATCH_SETTINGS);
  assert.deepEqual(
    batchSettingsFromEnv({ PERENNIAL_BATCH_MAX_DELAY_MS: '2', PERENNIAL_BATCH_MAX_ROWS: '512', PERENNIAL_LOG_MAX_DELAY_MS: '1.5' }),
    {
      predict: { maxDelayMs: 2, maxRows: 512 },
      log: { maxDelayMs: 1.5, maxRows: DEFAULT_BATCH_SETTINGS.log.maxRows },
    },
  );
  assert.throws(() => batchSettingsFromEnv({ PERENNIAL_BATCH_MAX_ROWS: '0' }), /PERENNIAL_BATCH_MAX_ROWS=0: expected a number >= 1/);
  assert.throws(() => batchSettingsFromEnv({ PERENNIAL_LOG_MAX_DELAY_MS: 'soon' }), /PERENNIAL_LOG_MAX_DELAY_MS=soon/);
});
