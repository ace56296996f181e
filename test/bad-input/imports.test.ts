/**
 * Bad imports, table-driven: each CSV or JSON file goes through prepareImport in process, and one
 * of each kind through the real `perennial import` (a child process) against a real SQLite log.
 * Every one must be refused with a typed error and a message naming the file and the row, column
 * or flag; through the command, with exit code 1 and the log left without a record of the model:
 * an import is all or nothing. A good file, imported the same way, is stored (so the
 * refusals are not an import that stores nothing anyway).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { openStore } from '../../adapters/store/index.ts';
import { DatasetError } from '../../client/dataset.ts';
import { ImportRejectedError, prepareImport } from '../../client/import.ts';
import { readSpecFile } from '../../client/spec-file.ts';
import { tempDir } from '../helpers/services.ts';
import { perennial } from './perennial-cli.ts';

const dir = tempDir('perennial-bad-import-');
const db = join(dir, 'perennial.sqlite');
const env = { PERENNIAL_DB: db };

const classifier = join(dir, 'classifier.yaml');
writeFileSync(
  classifier,
  stringify({
    name: 'imports',
    features: [
      { name: 'a', min: 0 },
      { name: 'c', type: 'category', values: ['x', 'y'] },
    ],
    label: { name: 'y', classes: ['p', 'q'] },
  }),
);
const regression = join(dir, 'regression.yaml');
writeFileSync(regression, stringify({ name: 'imports-mpg', features: [{ name: 'a' }], label: { name: 'mpg', type: 'number' } }));

const GOOD = ['1,x,p,A', '2,y,q,A', '3,x,q,B', '4,y,p,B'];
const csv = (...lines: string[]) => ['a,c,y,loc', ...lines].join('\n');

interface Case {
  name: string;
  /** The file's content; .json when `json` is set. */
  file: string;
  json?: boolean;
  spec?: string;
  args?: string[];
  error: RegExp;
}

const cases: Case[] = [
  // Rows that a retrain's data validation would refuse.
  {
    name: 'non-numeric value',
    file: csv(GOOD[0], 'abc,y,q,A'),
    error:
      /bad-\d+\.csv was not imported into imports; nothing was stored:\n[\s\S]*Feature "a" has 1 non-numeric value, e.g. "abc" in row 2\./,
  },
  { name: 'unknown class', file: csv(...GOOD, '5,x,r,A'), error: /Label "y" has 1 value outside the spec classes \[p, q\]: "r" \(1\)/ },
  {
    name: 'unknown category',
    file: csv(...GOOD, '5,z,p,A'),
    error: /Feature "c" has 1 value outside its categories \[x, y\], e.g. "z" in row 5\./,
  },
  {
    name: 'value below the feature minimum',
    file: csv('-1,x,p,A', ...GOOD),
    error: /Feature "a" has 1 value outside \[0, inf\], e.g. -1 in row 1\./,
  },
  { name: 'missing label', file: csv(...GOOD, '5,x,,A'), error: /Label "y" is missing in 1 row\./ },
  { name: 'hexadecimal number', file: csv(...GOOD, '0x10,x,p,A'), error: /Feature "a" has 1 non-numeric value, e.g. "0x10" in row 5\./ },
  {
    name: 'infinite number',
    file: csv(...GOOD, 'Infinity,x,p,A'),
    error: /Feature "a" has 1 non-numeric value, e.g. "Infinity" in row 5\./,
  },
  {
    name: 'object as a JSON value',
    file: JSON.stringify([
      { a: 1, c: 'x', y: 'p' },
      { a: { v: 1 }, c: 'x', y: 'p' },
    ]),
    json: true,
    error: /Feature "a" has 1 non-numeric value, e.g. \{"v":1\} in row 2\./,
  },
  {
    name: 'boolean as a JSON value',
    file: JSON.stringify([{ a: true, c: 'x', y: 'p' }]),
    json: true,
    error: /Feature "a" has 1 non-numeric value, e.g. true \(boolean\) in row 1\./,
  },
  {
    name: 'non-numeric regression label',
    spec: regression,
    file: 'a,mpg\n1,20\n2,fast\n',
    error: /Label "mpg" has 1 non-numeric value, e.g. "fast" in row 2; a regression label must be a finite number\./,
  },
  {
    name: 'one bad row among many good ones',
    file: csv(...Array.from({ length: 200 }, (_, i) => (i === 156 ? '7,x,maybe,A' : GOOD[i % 4]))),
    error: /200 rows, 1 problem\.\n {2}x Label "y" has 1 value outside the spec classes \[p, q\]: "maybe" \(1\)/,
  },
  {
    name: 'row numbers among --where matches',
    file: csv(...GOOD, '5,x,r,B'),
    args: ['--where', 'loc=B'],
    error: /row numbers count the 3 rows matching --where loc=B[\s\S]*"r" \(1\)/,
  },
  // Files that do not fit the model.
  {
    name: 'feature column absent',
    file: 'a,y\n1,p\n',
    error: /bad-\d+\.csv cannot be imported into imports: it has no column "c" \(columns: a, y\)/,
  },
  { name: 'empty file', file: '', error: /bad-\d+\.csv cannot be imported into imports: it has no column "a", "c", "y" \(columns: none\)/ },
  // --where flags.
  {
    name: '--where without =',
    file: csv(...GOOD),
    args: ['--where', 'loc'],
    error: /--where "loc": expected column=value, e.g. --where location=Seattle/,
  },
  { name: '--where with an empty column', file: csv(...GOOD), args: ['--where', '=A'], error: /--where "=A": expected column=value/ },
  {
    name: '--where on a column the file lacks',
    file: csv(...GOOD),
    args: ['--where', 'city=A'],
    error: /--where city: .*bad-\d+\.csv has no column "city" \(columns: a, c, y, loc\)/,
  },
  {
    name: '--where that matches nothing',
    file: csv(...GOOD),
    args: ['--where', 'loc=Z'],
    error: /bad-\d+\.csv: no rows to import \(none of its 4 rows match --where loc=Z\)/,
  },
  {
    name: '--where naming a column twice',
    file: csv(...GOOD),
    args: ['--where', 'loc=A', '--where', 'loc=B'],
    error: /--where names column "loc" twice/,
  },
  { name: 'empty --source', file: csv(...GOOD), args: ['--source', ' '], error: /--source must name where the records come from/ },
  // Files that are not what they claim.
  { name: 'truncated JSON', file: '[{"a": 1, "c": "x", "y": "p"}, {"a": 2', json: true, error: /bad-\d+\.json is not valid JSON: / },
  { name: 'JSON that is not an array', file: '{"a": 1}', json: true, error: /bad-\d+\.json must hold a JSON array of objects/ },
  {
    name: 'JSON row that is not an object',
    file: '[{"a": 1, "c": "x", "y": "p"}, [1, "x", "p"]]',
    json: true,
    error: /bad-\d+\.json: row 2 is not an object but \[1,"x","p"\]/,
  },
  {
    name: '__proto__ key in a JSON row',
    file: '[{"a": 1, "c": "x", "y": "p", "__proto__": {"polluted": true}}]',
    json: true,
    error: /bad-\d+\.json: row 1 has the forbidden key "__proto__"/,
  },
  {
    name: '__proto__ column in CSV',
    file: 'a,c,y,__proto__\n1,x,p,1\n',
    error: /bad-\d+\.csv: the header has the forbidden column "__proto__"/,
  },
  { name: 'column named twice in CSV', file: 'a,c,y,a\n1,x,p,2\n', error: /bad-\d+\.csv: column "a" appears more than once in the header/ },
  { name: 'ragged CSV', file: csv(GOOD[0], '2,y,q,A,extra'), error: /bad-\d+\.csv is not valid CSV: Invalid Record Length/ },
];

async function storedRecords(): Promise<Array<{ source: string; records: number; quarantined: number }>> {
  const store = await openStore(db);
  try {
    return [...(await store.recordsBySource('imports')), ...(await store.recordsBySource('imports-mpg'))];
  } finally {
    await store.close();
  }
}

/** The case's --where and --source flags, as the CLI hands them to prepareImport. */
function flags(args: string[] = []): { where: string[]; source?: string } {
  const where: string[] = [];
  let source: string | undefined;
  for (let k = 0; k < args.length; k += 2) {
    if (args[k] === '--where') where.push(args[k + 1]);
    else if (args[k] === '--source') source = args[k + 1];
    else throw new Error(`the corpus uses a flag this test does not know: ${args[k]}`);
  }
  return { where, source };
}

const fileOf = (c: Case, i: number) => join(dir, `bad-${i}.${c.json ? 'json' : 'csv'}`);

cases.forEach((c, i) => {
  test(`bad import: ${c.name}`, () => {
    const file = fileOf(c, i);
    writeFileSync(file, c.file);
    const { where, source } = flags(c.args);
    assert.throws(
      () => prepareImport(readSpecFile(c.spec ?? classifier), file, where, source ?? file),
      (err: Error) => (err instanceof DatasetError || err instanceof ImportRejectedError) && c.error.test(err.message),
    );
  });
});

/** A few of the corpus through the real command, one of each kind (rows, JSON, flags): refused whole. */
for (const name of ['one bad row among many good ones', '__proto__ key in a JSON row', '--where on a column the file lacks']) {
  test(`perennial import refuses it and stores nothing: ${name}`, async () => {
    const i = cases.findIndex((c) => c.name === name);
    const c = cases[i];
    writeFileSync(fileOf(c, i), c.file);
    const result = await perennial(['import', c.spec ?? classifier, fileOf(c, i), ...(c.args ?? [])], env);
    assert.equal(result.code, 1, `imported: ${result.stdout}`);
    assert.match(result.stderr, /^perennial: /);
    assert.match(result.stderr, c.error);
    assert.equal(result.stdout, '');
    assert.deepEqual(await storedRecords(), [], 'nothing stored');
  });
}

test('a missing file is named', async () => {
  const result = await perennial(['import', classifier, join(dir, 'nowhere.csv')], env);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^perennial: cannot read .*nowhere\.csv: ENOENT/);
  assert.deepEqual(await storedRecords(), []);
});

test('a good file is stored, listed by source, quarantined and restored', async () => {
  const file = join(dir, 'good.csv');
  writeFileSync(file, csv(...GOOD, '5,,p,A'));
  const imported = await perennial(['import', classifier, file, '--where', 'loc=A', '--source', 'batch-1'], env);
  assert.equal(imported.code, 0, imported.stderr);
  // Temporal is unreachable here: the records are stored anyway and the lifecycle sees them next cycle.
  assert.match(imported.stdout, /^3 records added to imports; its lifecycle could not be told/);
  assert.match(imported.stderr, /warning: Feature "c" is missing in 1 row/);
  assert.deepEqual(
    (await storedRecords()).map((s) => [s.source, s.records, s.quarantined]),
    [['batch-1', 3, 0]],
  );

  const listed = await perennial(['records', 'imports', '--by-source'], env);
  assert.match(listed.stdout, /^batch-1: 3 records \(ids 1-3, /);

  const noReason = await perennial(['quarantine', 'imports', '--source', 'batch-1'], env);
  assert.equal(noReason.code, 1);
  assert.match(noReason.stderr, /say why with --reason/);
  const unknown = await perennial(['quarantine', 'imports', '--source', 'batch-2', '--reason', 'x'], env);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /imports has no records from source "batch-2"/);
  assert.deepEqual(
    (await storedRecords()).map((s) => [s.source, s.records, s.quarantined]),
    [['batch-1', 3, 0]],
  );

  const quarantined = await perennial(['quarantine', 'imports', '--source', 'batch-1', '--reason', 'mislabelled'], env);
  assert.equal(quarantined.code, 0, quarantined.stderr);
  assert.match(quarantined.stdout, /^3 records of batch-1 quarantined/);
  assert.deepEqual(
    (await storedRecords()).map((s) => [s.source, s.records, s.quarantined]),
    [['batch-1', 0, 3]],
  );
  const store = await openStore(db);
  try {
    assert.equal((await store.readRecords('imports', { kind: 'all' })).length, 0, 'no training window includes them');
  } finally {
    await store.close();
  }

  const restored = await perennial(['quarantine', 'imports', '--source', 'batch-1', '--restore'], env);
  assert.equal(restored.code, 0, restored.stderr);
  assert.deepEqual(
    (await storedRecords()).map((s) => [s.source, s.records, s.quarantined]),
    [['batch-1', 3, 0]],
  );
});
