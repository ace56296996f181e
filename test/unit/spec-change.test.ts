/** core/spec-change.ts: the diff a spec update records, what it refuses, and what retrains. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ModelSpec } from '../../core/spec.ts';
import { retrainingChanges, specChangeRefusal, specDiff } from '../../core/spec-change.ts';

const base = ModelSpec.parse({
  name: 'weather',
  features: [{ name: 'temp' }, { name: 'wind', min: 0 }],
  label: { name: 'weather', classes: ['rain', 'sun'] },
});

test('specDiff names each changed leaf with its path, before and after; features by name', () => {
  const next = {
    ...base,
    features: [
      { ...base.features[0] },
      { name: 'wind', type: 'number' as const, min: 1 },
      { name: 'city', type: 'category' as const, values: ['a'] },
    ],
    monitoring: { ...base.monitoring, windowRows: 7 },
    schedule: { every: '1d' },
  };
  assert.deepEqual(specDiff(base, base), []);
  assert.deepEqual(specDiff(base, next), [
    'features[wind].min: 0 -> 1',
    'features[city]: (none) -> {"name":"city","type":"category","values":["a"]}',
    `monitoring.windowRows: ${base.monitoring.windowRows} -> 7`,
    'schedule: (none) -> {"every":"1d"}',
  ]);
  // Long values are cut, so a big change stays one readable line.
  const long = specDiff({ a: 'x'.repeat(500) }, { a: 'y' })[0];
  assert.ok(long.length < 140 && long.includes('…'));
  // Reordered features change the model's input layout: said, too.
  assert.deepEqual(specDiff(base, { ...base, features: [...base.features].reverse() }), ['features: order temp,wind -> wind,temp']);
  assert.deepEqual(specDiff({ tags: ['a'] }, { tags: ['a', 'b'] }), ['tags: ["a"] -> ["a","b"]']);
});

test('retrainingChanges keeps what decides a trained model: features, label, image, training', () => {
  const lines = [
    'features: [] -> [1]',
    'label.classes: a -> b',
    'training.sweep.seed: 1 -> 2',
    'monitoring.interval: 1s -> 2s',
    'policies.rules: x -> y',
  ];
  assert.deepEqual(retrainingChanges(lines), lines.slice(0, 3));
});

test('specChangeRefusal: another model or another task queue', () => {
  assert.equal(specChangeRefusal(base, base), undefined);
  assert.match(specChangeRefusal(base, { ...base, name: 'other' }) ?? '', /^name: the spec is for model "other"/);
  assert.match(specChangeRefusal(base, { ...base, taskQueue: 'gpu' }) ?? '', /^taskQueue: a running lifecycle stays on its task queue/);
});
