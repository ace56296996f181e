import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readSpecFile, SpecError } from '../../client/spec-file.ts';
import { parseDuration } from '../../core/duration.ts';
import { PROJECT_ROOT } from '../../stack/paths.ts';
import { tempDir } from '../helpers/services.ts';

test('durations: units and bad strings', () => {
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('7d'), 604_800_000);
  assert.equal(parseDuration(42), 42);
  assert.throws(() => parseDuration('soon'), /"soon" is not a duration/);
  assert.throws(() => parseDuration(-1), RangeError);
});

test('the demo spec is valid and gets defaults', () => {
  const spec = readSpecFile(join(PROJECT_ROOT, 'examples', 'weather.yaml'));
  assert.equal(spec.name, 'weather');
  assert.equal(spec.validation.minRows, 50);
  assert.equal(spec.evaluation.minImprovement, 0);
  assert.equal(spec.training.sweep.sampler, 'tpe');
  assert.deepEqual(spec.training.sweep.budget, { maxTrials: 6, maxWallTime: '10m', maxEpochsPerTrial: 27 });
  assert.deepEqual(spec.features[0], { name: 'precipitation', type: 'number', min: 0 });
});

test('a bad spec lists every problem with its path', () => {
  const path = join(tempDir(), 'bad.yaml');
  writeFileSync(path, 'name: Bad Name\nfeatures: []\nlabel: { name: y, classes: [a] }\nmonitoring: { interval: soon }\n');
  assert.throws(
    () => readSpecFile(path),
    (err: Error) => {
      assert.ok(err instanceof SpecError);
      assert.match(err.message, /bad\.yaml is not a valid model spec/);
      assert.match(err.message, /- name: model names are lower-case letters, digits and dashes/);
      assert.match(err.message, /- features: Too small/);
      assert.match(err.message, /- label\.classes: Too small/);
      assert.match(err.message, /- monitoring\.interval: "soon" is not a duration/);
      return true;
    },
  );
});

test('a search space names only hyperparameters its family has, with valid ranges', () => {
  const path = join(tempDir(), 'space.yaml');
  writeFileSync(
    path,
    [
      'name: m',
      'features: [{ name: a }, { name: c, type: category, values: [x, y] }]',
      'label: { name: y, classes: [p, q] }',
      'training:',
      '  sweep:',
      '    families:',
      '      softmax: { depth: { type: int, low: 1, high: 3 } }',
      '      mlp: { learningRate: { type: float, low: 0, high: 0.1, log: true }, width: { type: int, low: 9, high: 3 } }',
    ].join('\n'),
  );
  assert.throws(
    () => readSpecFile(path),
    (err: Error) => {
      assert.match(err.message, /training\.sweep\.families\.softmax\.depth: softmax has no hyperparameter "depth"/);
      assert.match(err.message, /a log-scale range needs low > 0 \(got 0\)/);
      assert.match(err.message, /low \(9\) must be below high \(3\)/);
      return true;
    },
  );
});

test('unreadable and unparsable spec files get typed errors', () => {
  assert.throws(() => readSpecFile('/nonexistent/spec.yaml'), (e: Error) => e instanceof SpecError && /cannot read \/nonexistent\/spec.yaml/.test(e.message));
  const path = join(tempDir(), 'broken.json');
  writeFileSync(path, '{ "name": ');
  assert.throws(() => readSpecFile(path), (e: Error) => e instanceof SpecError && /is not valid JSON/.test(e.message));
});

test('a regression label: type number, judged by val_rmse unless told otherwise; objectives must suit the label', () => {
  const path = join(tempDir(), 'mpg.yaml');
  const base = ['name: mpg', 'features: [{ name: weight }]', 'label: { name: mpg, type: number }'];
  writeFileSync(path, base.join('\n'));
  const spec = readSpecFile(path);
  assert.deepEqual(spec.label, { name: 'mpg', type: 'number' });
  assert.deepEqual(spec.training.sweep.objective, { metric: 'val_rmse', direction: 'minimize' });
  assert.ok(Object.keys(spec.training.sweep.families).length > 0, 'the default search still applies');

  writeFileSync(path, [...base, 'training: { sweep: { families: { softmax: {} }, objective: { metric: val_accuracy } } }'].join('\n'));
  assert.throws(() => readSpecFile(path), /training\.sweep\.objective\.metric: a regression model's sweep is judged by val_rmse or val_mae, not val_accuracy/);
  writeFileSync(path, ['name: w', 'features: [{ name: x }]', 'label: { name: y, classes: [a, b] }', 'training: { sweep: { families: { softmax: {} }, objective: { metric: val_mae, direction: minimize } } }'].join('\n'));
  assert.throws(() => readSpecFile(path), /val_mae judges regression models/);
  writeFileSync(path, ['name: w', 'features: [{ name: x }]', 'label: { name: y, type: number, classes: [a, b] }'].join('\n'));
  assert.throws(() => readSpecFile(path), SpecError, 'a number label has no classes');
  writeFileSync(path, [...base, 'monitoring: { fairness: { column: weight } }'].join('\n'));
  assert.throws(() => readSpecFile(path), /monitoring\.fairness: the fairness check .* applies to classifiers, not to a regression model/);
});

test('examples/cars.yaml is a valid regression spec', () => {
  const spec = readSpecFile(join(PROJECT_ROOT, 'examples', 'cars.yaml'));
  assert.equal(spec.label.type, 'number');
  assert.deepEqual(spec.training.sweep.objective, { metric: 'val_rmse', direction: 'minimize' });
  assert.deepEqual(spec.policies.rules.map((r) => r.name), ['error', 'concept-drift']);
});
