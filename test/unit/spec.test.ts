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
  assert.equal(spec.training.candidates[1].activation, 'relu');
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

test('unreadable and unparsable spec files get typed errors', () => {
  assert.throws(() => readSpecFile('/nonexistent/spec.yaml'), (e: Error) => e instanceof SpecError && /cannot read spec file/.test(e.message));
  const path = join(tempDir(), 'broken.json');
  writeFileSync(path, '{ "name": ');
  assert.throws(() => readSpecFile(path), (e: Error) => e instanceof SpecError && /is not valid JSON/.test(e.message));
});
