/**
 * Imports (Store.addRecords) with values that break naive encodings: tabs, line breaks,
 * backslashes, \N and \. spelled out, quotes, unicode, JSON escapes, extreme numbers, a long
 * value. On every engine they come back as given; on Postgres, whose store imports with COPY
 * in its text format, they are stored exactly as a parametrised INSERT stores them, and a row
 * the server refuses anywhere in an import refuses all of it, the pool fit for the next one.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { openStore, type LabelledRecord } from '../../adapters/store/index.ts';
import { freshDatabaseUrl } from '../helpers/postgres.ts';
import { STORE_ENGINES } from '../helpers/store-engines.ts';

const NASTY_TEXT = [
  '',
  ' ',
  'tab\there',
  'line\nbreak',
  'crlf\r\nend\r',
  'back\\slash',
  '\\',
  '\\\\',
  '\\N',
  '\\.',
  '\\t',
  '\\x41',
  'a\\\nb',
  'quotes " \' ` , ; {braces} [brackets]',
  '"',
  'NULL',
  'unicode é ß 中文 🌧️ עברית 👩‍👩‍👧',
  'separators \u2028 \u2029 \u00a0 \u000b \f \b',
  'x'.repeat(100_000),
];

/** Features whose JSON text has backslash escapes, odd keys and numbers at their limits. */
function nastyFeatures(i: number, text: string): Record<string, unknown> {
  return {
    i,
    text,
    [`key\t${text.slice(0, 20)}`]: 'v',
    unicodeEscape: '\u0000 inside JSON',
    numbers: [0, -0, 1e21, 5e-324, -1.7976931348623157e308, 0.1 + 0.2, NaN, Infinity],
    missing: null,
    nested: { a: [true, false, null, { '': text.slice(0, 10) }] },
  };
}

const nastyRecords = (): LabelledRecord[] =>
  NASTY_TEXT.flatMap((text, i) => [
    { features: nastyFeatures(i, text), label: text, source: `source ${text.slice(0, 50)}` },
    { features: { plain: i }, label: 'ok', source: text },
  ]);

for (const engine of STORE_ENGINES) {
  describe(`${engine.name} store`, () => {
    test('imported records come back as given, in order, whatever their text', async () => {
      const store = await engine.open({ now: () => new Date('2026-03-01T12:34:56.789Z') });
      const records = nastyRecords();
      assert.equal(await store.addRecords('nasty', records), records.length);
      const back = await store.readRecords('nasty', { kind: 'all' });
      assert.deepEqual(
        back.map(({ features, label, source }) => ({ features, label, source })),
        records.map((r) => ({ ...r, features: JSON.parse(JSON.stringify(r.features)) as unknown })),
      );
      assert.deepEqual(
        back.map((r) => r.id),
        records.map((_, i) => i + 1),
      );
      await store.close();
    });
  });
}

describe('postgres only: imports by COPY', () => {
  test('store exactly what a parametrised INSERT stores', async () => {
    const url = await freshDatabaseUrl();
    const createdAt = new Date('2026-03-01T12:34:56.789Z');
    const store = await openStore(url, { now: () => createdAt });
    // A lone surrogate: UTF-8 cannot carry it, and both ways must replace it alike.
    const records = [...nastyRecords(), { features: { s: '\ud800' }, label: 'lone \udc00 surrogate', source: '\ud83d' }];
    await store.addRecords('copied', records);
    const db = new pg.Pool({ connectionString: url });
    for (const r of records)
      await db.query('INSERT INTO records (model, features, label, source, created_at) VALUES ($1, $2::json, $3, $4, $5)', [
        'inserted',
        JSON.stringify(r.features),
        r.label,
        r.source,
        createdAt.toISOString(),
      ]);
    const stored = async (model: string) =>
      (
        await db.query<{ features: string; label: string; source: string; created_at: string }>(
          'SELECT features::text, label, source, created_at::text FROM records WHERE model = $1 ORDER BY id',
          [model],
        )
      ).rows;
    const copied = await stored('copied');
    assert.equal(copied.length, records.length);
    assert.deepEqual(copied, await stored('inserted'));
    assert.equal(copied.at(-1)!.label, 'lone \ufffd surrogate');
    await db.end();
    await store.close();
  });

  test('a row the server refuses, or one that cannot be written, refuses the whole import; the next import goes in', async () => {
    const url = await freshDatabaseUrl();
    const store = await openStore(url);
    await store.addRecords('m', [{ features: { x: 0 }, label: 'a', source: 'first' }]);
    // Rows in the import's second thousand, so earlier pieces of COPY data have been sent.
    const withRow = (bad: LabelledRecord) =>
      Array.from({ length: 2500 }, (_, i): LabelledRecord => (i === 1500 ? bad : { features: { x: i }, label: 'a', source: 'bulk' }));
    const refusals: Array<[string, LabelledRecord, RegExp]> = [
      ['a NUL character in a label', { features: { x: 1 }, label: 'nul\u0000', source: 'bulk' }, /0x00/],
      ['a missing label', { features: { x: 1 }, label: null as unknown as string, source: 'bulk' }, /"label".*not-null/],
      ['features JSON cannot spell', { features: { x: 1n }, label: 'a', source: 'bulk' }, /BigInt/],
      ['no features', { features: undefined as unknown as Record<string, unknown>, label: 'a', source: 'bulk' }, /"features".*not-null/],
    ];
    for (const [what, bad, message] of refusals) await assert.rejects(store.addRecords('m', withRow(bad)), message, what);
    assert.equal(await store.maxRecordId('m'), 1);
    assert.deepEqual(await store.recordsBySource('m').then((s) => s.map((x) => [x.source, x.records])), [['first', 1]]);

    assert.equal(await store.addRecords('m', withRow({ features: { x: 'fine' }, label: 'b', source: 'bulk' })), 2500);
    const back = await store.readRecords('m', { kind: 'all' });
    assert.equal(back.length, 2501);
    assert.deepEqual(back[1501], { id: back[1501].id, features: { x: 'fine' }, label: 'b', source: 'bulk' });
    // Ids went on from the sequence, in the records' order.
    assert.ok(back.every((r, i) => i === 0 || r.id > back[i - 1].id));
    await store.close();
  });
});
