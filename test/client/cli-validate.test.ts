/**
 * `perennial validate` as a user runs it (a child process). It checks a spec file without
 * starting anything, so this file needs no services.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../config/paths.ts';
import { tempDir } from '../helpers/services.ts';

const dir = tempDir('perennial-cli-');

async function validate(spec: unknown): Promise<{ code: number; stdout: string; stderr: string }> {
  const path = join(dir, 'spec.json');
  writeFileSync(path, JSON.stringify(spec));
  try {
    const { stdout, stderr } = await promisify(execFile)(join(PROJECT_ROOT, 'client', 'bin.mjs'), ['validate', path]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

// Families given: the sweep's default families are not what these tests are about.
const training = { sweep: { families: { mlp: { width: { type: 'int', low: 8, high: 16 } } } } };

test('validate counts the classes of a classifier, with or without the label type', async () => {
  for (const label of [
    { name: 'weather', classes: ['rain', 'sun', 'fog'] },
    { name: 'weather', type: 'category', classes: ['rain', 'sun', 'fog'] },
  ]) {
    const result = await validate({ name: 'weather', features: [{ name: 'wind' }, { name: 'temp_max' }], label, training });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /spec\.json: valid spec for model "weather" \(2 features, 3 classes\)\n$/);
  }
});

test('validate names a regression label', async () => {
  const result = await validate({
    name: 'house',
    features: [{ name: 'rooms' }, { name: 'area' }, { name: 'age' }],
    label: { name: 'price', type: 'number' },
    training,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /spec\.json: valid spec for model "house" \(3 features, regression \(number\)\)\n$/);
});
