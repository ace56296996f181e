/** The store's reference records for the older-data gate, on every store engine (STORE_ENGINES). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { STORE_ENGINES } from '../helpers/store-engines.ts';

for (const engine of STORE_ENGINES) {
  describe(engine.name, () => {
    test('reference records: the newest up to an id or of a source, oldest first, without quarantined ones', async () => {
      const store = await engine.open();
      const add = async (n: number, source: string, model = 'weather') =>
        store.addRecords(
          model,
          Array.from({ length: n }, (_, i) => ({ features: { x: i }, label: source, source })),
        );
      await add(4, 'batch-1');
      const through = await store.maxRecordId('weather');
      await add(3, 'golden');
      await add(2, 'batch-2');
      await add(5, 'golden', 'other');

      const upTo = await store.referenceRecords('weather', { throughId: through }, 3);
      assert.deepEqual(
        upTo.map((r) => [r.id, r.source]),
        [through - 2, through - 1, through].map((id) => [id, 'batch-1']),
      );
      const golden = await store.referenceRecords('weather', { source: 'golden' }, 100);
      assert.deepEqual(
        golden.map((r) => [r.label, r.features.x]),
        [
          ['golden', 0],
          ['golden', 1],
          ['golden', 2],
        ],
      );
      assert.equal((await store.referenceRecords('weather', {}, 100)).length, 9);

      await store.quarantineSource('weather', 'golden', 'bad labels');
      assert.deepEqual(await store.referenceRecords('weather', { source: 'golden' }, 100), []);
    });
  });
}
