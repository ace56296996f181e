import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readSpecFile, SpecError } from '../../client/spec-file.ts';
import { parseDuration } from '../../core/duration.ts';
import { didYouMean, editDistance } from '../../core/known-keys.ts';
import { formatIssues, ModelSpec } from '../../core/spec.ts';
import { PROJECT_ROOT } from '../../config/paths.ts';
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
  assert.throws(
    () => readSpecFile('/nonexistent/spec.yaml'),
    (e: Error) => e instanceof SpecError && /cannot read \/nonexistent\/spec.yaml/.test(e.message),
  );
  const path = join(tempDir(), 'broken.json');
  writeFileSync(path, '{ "name": ');
  assert.throws(
    () => readSpecFile(path),
    (e: Error) => e instanceof SpecError && /is not valid JSON/.test(e.message),
  );
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
  assert.throws(
    () => readSpecFile(path),
    /training\.sweep\.objective\.metric: a regression model's sweep is judged by val_rmse or val_mae, not val_accuracy/,
  );
  writeFileSync(
    path,
    [
      'name: w',
      'features: [{ name: x }]',
      'label: { name: y, classes: [a, b] }',
      'training: { sweep: { families: { softmax: {} }, objective: { metric: val_mae, direction: minimize } } }',
    ].join('\n'),
  );
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
  assert.deepEqual(
    spec.policies.rules.map((r) => r.name),
    ['error', 'concept-drift'],
  );
});

const minimal = { name: 'm', features: [{ name: 'a' }], label: { name: 'y', classes: ['p', 'q'] } };
const problems = (input: object) => {
  const result = ModelSpec.safeParse({ ...minimal, ...input });
  return result.success ? '' : formatIssues(result.error);
};

test('unknown keys anywhere in a spec are errors that suggest the key meant', () => {
  assert.equal(problems({ aproval: { timeout: '10m' } }), '  - aproval: unknown key, did you mean "approval"?');
  assert.equal(problems({ monitoring: { intervall: '5s' } }), '  - monitoring.intervall: unknown key, did you mean "interval"?');
  assert.equal(problems({ training: { windw: { kind: 'all' } } }), '  - training.windw: unknown key, did you mean "window"?');
  assert.equal(
    problems({ training: { sweep: { families: { softmax: {} }, budget: { maxTrails: 3 } } } }),
    '  - training.sweep.budget.maxTrails: unknown key, did you mean "maxTrials"?',
  );
  assert.match(
    problems({ colour: 'red' }),
    /^ {2}- colour: unknown key \(allowed here: name, description, features, image, label, training/,
  );
});

test('a task queue override is a name Temporal takes, and not a training queue', () => {
  assert.equal(problems({ taskQueue: 'gpu-models' }), '');
  assert.equal(problems({ taskQueue: 'team_a.gpu-2' }), '');
  for (const bad of ['', 'gpu models', '-gpu', 'gpü'])
    assert.match(
      problems({ taskQueue: bad }),
      /^ {2}- taskQueue: a task queue name is 1-200 letters, digits, dots, dashes and underscores/,
      bad,
    );
  assert.equal(
    problems({ taskQueue: 'gpu-training' }),
    '  - taskQueue: names ending in -training are the training queues of other task queues',
  );
});

test('an unknown key in a strict section is reported once, with the suggestion, next to the other problems', () => {
  // alerts and policy rules are strict objects: zod's own "Unrecognized key" gives way to the suggestion.
  assert.equal(problems({ alerts: { dedupWindw: '1h' } }), '  - alerts.dedupWindw: unknown key, did you mean "dedupWindow"?');
  const both = problems({ monitoring: { intervall: '5s' }, canary: { tolerance: 2 } });
  assert.match(both, /monitoring\.intervall: unknown key/);
  assert.match(both, /canary\.tolerance: Too big/);
  // A feature given without its type is checked as the number feature it becomes.
  assert.equal(problems({ features: [{ name: 'a', mx: 3 }] }), '  - features.0.mx: unknown key, did you mean "max"?');
  // Records take any key: feature names under drift overrides are the spec's own check.
  assert.match(
    problems({ monitoring: { drift: { features: { b: { test: 'ks' } } } } }),
    /monitoring\.drift\.features\.b: "b" is not a feature of this model/,
  );
});

test('a parsed spec parses again to itself (specs travel parsed, as JSON, in workflow histories)', () => {
  const spec = readSpecFile(join(PROJECT_ROOT, 'examples', 'weather.yaml'));
  assert.deepEqual(ModelSpec.parse(JSON.parse(JSON.stringify(spec))), spec);
});

test('suggestions: close keys by edit distance (case aside), nothing for distant ones', () => {
  assert.equal(editDistance('maxTrails', 'maxTrials'), 1);
  assert.equal(editDistance('windw', 'window'), 1);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(didYouMean('ratelimit', ['rateLimit', 'dedupWindow']), 'rateLimit');
  assert.equal(didYouMean('polcies', ['policies', 'alerts']), 'policies');
  assert.equal(didYouMean('owner', ['name', 'features', 'label']), undefined);
  assert.equal(didYouMean('x', ['y']), 'y', 'one edit is always close enough');
});

test('durations that pace a loop or a wait have lower bounds', () => {
  assert.equal(problems({ monitoring: { interval: '0s' } }), '  - monitoring.interval: must be at least 100ms, got "0s"');
  assert.equal(problems({ monitoring: { interval: '100ms' } }), '');
  assert.equal(problems({ approval: { timeout: 999 } }), '  - approval.timeout: must be at least 1s, got 999 (ms)');
  assert.equal(problems({ canary: { steps: [{ weight: 0.5, bake: '0s' }] } }), '  - canary.steps.0.bake: must be at least 1s, got "0s"');
  assert.equal(problems({ schedule: { every: '0.5s' } }), '  - schedule.every: must be at least 1s, got "0.5s"');
  assert.equal(
    problems({ training: { sweep: { families: { softmax: {} }, budget: { maxWallTime: 5000 } } } }),
    '  - training.sweep.budget.maxWallTime: must be at least 10s, got 5000 (ms)',
  );
  // Off switches stay allowed where zero means off.
  assert.equal(problems({ policies: { cooldown: '0s' }, alerts: { dedupWindow: '0s' } }), '');
  assert.throws(() => parseDuration(`${'9'.repeat(400)}d`), /too long a duration/);
});

test('a __proto__ key in a spec file is refused as a forbidden key, not as bad JSON', () => {
  const path = join(tempDir(), 'proto.json');
  writeFileSync(path, '{"name": "m", "monitoring": {"__proto__": {"interval": "1s"}}}');
  assert.throws(
    () => readSpecFile(path),
    (e: Error) => e instanceof SpecError && e.message === `forbidden key "__proto__" at monitoring in ${path}`,
  );
});

test('the shadow phase: off unless `shadow` is given, with defaults, bounds, and agreement for classifiers only', () => {
  assert.equal(ModelSpec.parse(minimal).shadow, undefined, 'off by default: existing specs behave as before');
  assert.deepEqual(ModelSpec.parse({ ...minimal, shadow: {} }).shadow, { bake: '10m', minSamples: 20, tolerance: 0.05, minAgreement: 0 });
  assert.equal(problems({ shadow: { bake: '0s' } }), '  - shadow.bake: must be at least 1s, got "0s"');
  assert.equal(problems({ shadow: { minAgreement: 1.5 } }), '  - shadow.minAgreement: Too big: expected number to be <=1');
  assert.equal(problems({ shadow: { minSample: 5 } }), '  - shadow.minSample: unknown key, did you mean "minSamples"?');
  const regression = { ...minimal, label: { name: 'y', type: 'number' } };
  assert.equal(ModelSpec.safeParse({ ...regression, shadow: { tolerance: 0.1 } }).success, true);
  const refused = ModelSpec.safeParse({ ...regression, shadow: { minAgreement: 0.9 } });
  assert.equal(
    refused.success ? '' : formatIssues(refused.error),
    '  - shadow.minAgreement: minAgreement (a share of rows with the same class) applies to classifiers, not to a regression model',
  );
});
