/**
 * Records by source and quarantine on every store engine, and what `perennial import` checks
 * (client/import.ts) beyond the row checks the bad-input corpus covers.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { prepareImport } from '../../client/import.ts';
import { ModelSpec } from '../../core/spec.ts';
import { validateRows } from '../../core/validation.ts';
import { tempDir } from '../helpers/services.ts';
import { STORE_ENGINES } from '../helpers/store-engines.ts';

const spec = ModelSpec.parse({ name: 'q', features: [{ name: 'a' }], label: { name: 'y', classes: ['p', 'q'] } });
const record = (a: number, label: string, source: string) => ({ features: { a }, label, source });

for (const engine of STORE_ENGINES) {
  describe(engine.name, () => {
    test('quarantine takes a source out of every training window and restore puts it back, ids and feedback links kept', async () => {
      const store = await engine.open();
      try {
        await store.addRecords('q', [record(1, 'p', 'good.csv'), record(2, 'q', 'good.csv')]);
        await store.logPredictions([
          {
            id: 'pred-1',
            model: 'q',
            version: '1',
            role: 'champion',
            features: { a: 3 },
            label: 'p',
            confidence: 0.9,
            probabilities: { p: 0.9, q: 0.1 },
          },
        ]);
        const feedbackId = await store.addFeedback('pred-1', 'q');
        await store.addRecords('q', [record(4, 'q', 'spam.csv'), record(5, 'q', 'spam.csv')]);
        await store.addRecords('other', [record(6, 'p', 'spam.csv')]);
        const before = await store.readRecords('q', { kind: 'all' });
        assert.deepEqual(
          before.map((r) => r.source),
          ['good.csv', 'good.csv', 'feedback:anonymous', 'spam.csv', 'spam.csv'],
        );
        assert.deepEqual(
          (await store.recordsBySource('q')).map((s) => [s.source, s.records, s.quarantined, s.firstId, s.lastId]),
          [
            ['good.csv', 2, 0, 1, 2],
            ['feedback:anonymous', 1, 0, 3, 3],
            ['spam.csv', 2, 0, 4, 5],
          ],
        );

        assert.equal(await store.quarantineSource('q', 'spam.csv', 'mislabelled batch'), 2);
        assert.equal(await store.quarantineSource('q', 'feedback:anonymous', 'anonymous'), 1);
        assert.deepEqual(
          (await store.readRecords('q', { kind: 'all' })).map((r) => r.id),
          [1, 2],
        );
        assert.deepEqual(
          (await store.readRecords('q', { kind: 'lastRows', rows: 2 })).map((r) => r.id),
          [1, 2],
        );
        assert.equal((await store.readRecords('other', { kind: 'all' })).length, 1, "another model's records of the same source stay");
        // The label still counts for monitoring; only its training record is set aside.
        assert.deepEqual(
          (await store.labelledSince('q', 0)).map((l) => l.truth),
          ['q'],
        );
        assert.deepEqual(
          (await store.recordsBySource('q')).map((s) => [s.source, s.records, s.quarantined]),
          [
            ['good.csv', 2, 0],
            ['feedback:anonymous', 0, 1],
            ['spam.csv', 0, 2],
          ],
        );
        // Ids are never handed out again: "records after id N" watermarks stay meaningful.
        await store.addRecords('q', [record(7, 'p', 'later.csv')]);
        assert.equal(await store.maxRecordId('q'), 7);

        assert.equal(await store.restoreSource('q', 'feedback:anonymous'), 1);
        assert.equal(await store.restoreSource('q', 'spam.csv'), 2);
        assert.deepEqual((await store.readRecords('q', { kind: 'all' })).slice(0, 5), before, 'back as they were, before the later record');
        // Feedback is idempotent again only if its record link came back.
        assert.equal(await store.addFeedback('pred-1', 'q'), feedbackId);
        assert.equal(await store.quarantineSource('q', 'nothing-here', 'x'), 0);
      } finally {
        await store.close();
      }
    });
  });
}

test('import checks rows, not the window: few rows of one class are fine, bad ones are not', () => {
  const file = join(tempDir(), 'few.csv');
  writeFileSync(file, 'a,y,extra\n1,p,ignored\n2,p,ignored\n');
  const { records, report } = prepareImport(spec, file);
  assert.deepEqual(records, [record(1, 'p', file), record(2, 'p', file)]);
  assert.equal(report.ok, true);
  // The same rows as a whole training window fail: too few, one class.
  const snapshot = validateRows(
    [
      { a: 1, y: 'p' },
      { a: 2, y: 'p' },
    ],
    spec,
  );
  assert.deepEqual(snapshot.failures, [
    'Only 2 rows; at least 50 are required.',
    'Only class "p" appears; at least two classes must appear.',
  ]);

  assert.deepEqual(
    prepareImport(spec, file, [], 'batch-7').records.map((r) => r.source),
    ['batch-7', 'batch-7'],
  );
  writeFileSync(file, 'a,y\n1,p\n1,r\n');
  assert.throws(
    () => prepareImport(spec, file),
    (err: Error) =>
      err.name === 'ImportRejectedError' && /Label "y" has 1 value outside the spec classes \[p, q\]: "r" \(1\)/.test(err.message),
  );
});
