/**
 * Bad model specs, table-driven: each file goes through readSpecFile in process, and the whole
 * corpus through the real `perennial validate` and `perennial register` (child processes). Every
 * one must be refused with exit code 1, a SpecError, and a message naming the file and the field;
 * register must refuse before it tries to reach Temporal (so nothing was started).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { readSpecFile, SpecError } from '../../client/spec-file.ts';
import { tempDir } from '../helpers/services.ts';
import { perennial } from './perennial-cli.ts';

const dir = tempDir('perennial-bad-spec-');

const base = {
  name: 'bad-spec',
  features: [
    { name: 'a', min: 0 },
    { name: 'c', type: 'category', values: ['x', 'y'] },
  ],
  label: { name: 'y', classes: ['p', 'q'] },
  training: { sweep: { families: { softmax: {} } } },
};
type Spec = Record<string, any>;
const withSection = (changes: Spec): Spec => ({ ...base, ...changes });

interface Case {
  name: string;
  /** A spec object (written as YAML, or JSON with json: true), or the file's raw text. */
  spec: Spec | string;
  json?: boolean;
  error: RegExp;
}

const cases: Case[] = [
  // Unknown keys, anywhere, with a suggestion when one is close.
  {
    name: 'misspelt top-level section',
    spec: withSection({ aproval: { timeout: '10m' } }),
    error: /- aproval: unknown key, did you mean "approval"\?/,
  },
  {
    name: 'misspelt monitoring interval',
    spec: withSection({ monitoring: { intervall: '5s' } }),
    error: /- monitoring\.intervall: unknown key, did you mean "interval"\?/,
  },
  {
    name: 'misspelt training window',
    spec: withSection({ training: { ...base.training, windw: { kind: 'all' } } }),
    error: /- training\.windw: unknown key, did you mean "window"\?/,
  },
  {
    name: 'swapped letters in the sweep budget',
    spec: withSection({ training: { sweep: { ...base.training.sweep, budget: { maxTrails: 3 } } } }),
    error: /- training\.sweep\.budget\.maxTrails: unknown key, did you mean "maxTrials"\?/,
  },
  {
    name: 'wrong case',
    spec: withSection({ alerts: { ratelimit: { max: 2 } } }),
    error: /- alerts\.ratelimit: unknown key, did you mean "rateLimit"\?/,
  },
  {
    name: 'unknown key with nothing close',
    spec: withSection({ owner: 'me' }),
    error: /- owner: unknown key \(allowed here: name, description, features, .*canary, deployment, shadow\)/,
  },
  {
    name: 'typo in a feature',
    spec: withSection({ features: [{ name: 'a', mn: 0 }] }),
    error: /- features\.0\.mn: unknown key, did you mean "min"\?/,
  },
  {
    name: 'classes on a regression label',
    spec: withSection({ label: { name: 'y', type: 'number', classes: ['p', 'q'] } }),
    error: /- label\.classes: unknown key \(allowed here: name, type\)/,
  },
  {
    name: 'typo in a policy rule condition',
    spec: withSection({ policies: { rules: [{ name: 'acc', when: { metric: 'accuracy', below: 0.8, minLabel: 30 } }] } }),
    error: /- policies\.rules\.0\.when\.minLabel: unknown key, did you mean "minLabels"\?/,
  },
  {
    name: 'typo in a nested any condition',
    spec: withSection({ policies: { rules: [{ name: 'r', when: { any: [{ metirc: 'accuracy', below: 0.8 }] } }] } }),
    error: /- policies\.rules\.0\.when\.any\.0\.metirc: unknown key, did you mean "metric"\?/,
  },
  {
    name: 'typo in a policy shorthand',
    spec: withSection({ policies: { accuracyBelow: { treshold: 0.7 } } }),
    error: /- policies\.accuracyBelow\.treshold: unknown key, did you mean "threshold"\?/,
  },
  {
    name: 'typo in a webhook',
    spec: withSection({ alerts: { webhooks: [{ url: 'https://hooks.example.com/x', knds: ['drift'] }] } }),
    error: /- alerts\.webhooks\.0\.knds: unknown key, did you mean "kinds"\?/,
  },
  {
    name: 'typo in the SMTP settings',
    spec: withSection({ alerts: { email: { smtp: { host: 'mail', prot: 25 }, from: 'a@example.com', to: ['b@example.com'] } } }),
    error: /- alerts\.email\.smtp\.prot: unknown key, did you mean "port"\?/,
  },
  {
    name: 'typo in a search range',
    spec: withSection({
      training: { sweep: { families: { softmax: { learningRate: { type: 'float', low: 0.01, high: 0.1, lg: true } } } } },
    }),
    error: /- training\.sweep\.families\.softmax\.learningRate\.lg: unknown key, did you mean "log"\?/,
  },
  {
    name: 'typo in a canary step',
    spec: withSection({ canary: { steps: [{ weight: 0.5, bak: '1m' }] } }),
    error: /- canary\.steps\.0\.bak: unknown key, did you mean "bake"\?/,
  },
  {
    name: 'typo in a drift override',
    spec: withSection({ monitoring: { drift: { features: { a: { tset: 'ks' } } } } }),
    error: /- monitoring\.drift\.features\.a\.tset: unknown key, did you mean "test"\?/,
  },
  // Degenerate durations, refused with their lower bound.
  {
    name: 'zero monitoring interval',
    spec: withSection({ monitoring: { interval: '0s' } }),
    error: /- monitoring\.interval: must be at least 100ms, got "0s"/,
  },
  {
    name: 'zero approval timeout (ms)',
    spec: withSection({ approval: { timeout: 0 } }),
    error: /- approval\.timeout: must be at least 1s, got 0 \(ms\)/,
  },
  {
    name: 'half-second canary bake',
    spec: withSection({ canary: { steps: [{ weight: 0.5, bake: '0.5s' }] } }),
    error: /- canary\.steps\.0\.bake: must be at least 1s, got "0\.5s"/,
  },
  {
    name: 'sub-second schedule',
    spec: withSection({ schedule: { every: '500ms' } }),
    error: /- schedule\.every: must be at least 1s, got "500ms"/,
  },
  {
    name: 'one-second sweep wall time',
    spec: withSection({ training: { sweep: { ...base.training.sweep, budget: { maxWallTime: '1s' } } } }),
    error: /- training\.sweep\.budget\.maxWallTime: must be at least 10s, got "1s"/,
  },
  {
    name: 'wall time that is not a duration',
    spec: withSection({ training: { sweep: { ...base.training.sweep, budget: { maxWallTime: 'forever' } } } }),
    error: /- training\.sweep\.budget\.maxWallTime: "forever" is not a duration/,
  },
  {
    name: 'endless interval',
    spec: withSection({ monitoring: { interval: `${'9'.repeat(400)}d` } }),
    error: /- monitoring\.interval: "9+d" is too long a duration/,
  },
  // Other field errors still name their field.
  {
    name: 'undefined reviewer group',
    spec: withSection({ approval: { reviewers: ['group:ml'] } }),
    error: /- approval\.reviewers\.0: group "ml" is not defined in approval\.groups/,
  },
  {
    name: 'training window without rows',
    spec: withSection({ training: { ...base.training, window: { kind: 'lastRows' } } }),
    error: /- training\.window\.rows: Invalid input/,
  },
  // File-level problems name the file.
  {
    name: '__proto__ key in JSON',
    spec: `{"name":"bad-spec","__proto__":{"admin":true},"features":[{"name":"a"}],"label":{"name":"y","classes":["p","q"]}}`,
    json: true,
    error: /forbidden key "__proto__" in .*spec-\d+\.json/,
  },
  {
    name: '__proto__ key deep in YAML',
    spec: 'name: bad-spec\nfeatures: [{ name: a, __proto__: { x: 1 } }]\nlabel: { name: y, classes: [p, q] }\n',
    error: /forbidden key "__proto__" at features\.0 in .*spec-\d+\.yaml/,
  },
  { name: 'truncated JSON', spec: '{ "name": "bad-spec", "features": [', json: true, error: /spec-\d+\.json is not valid JSON: / },
  {
    name: 'duplicate YAML key',
    spec: 'name: bad-spec\nname: other\nfeatures: [{ name: a }]\nlabel: { name: y, classes: [p, q] }\n',
    error: /spec-\d+\.yaml is not valid YAML: Map keys must be unique/,
  },
];

const fileOf = (c: Case, i: number) => join(dir, `spec-${String(i).padStart(2, '0')}.${c.json ? 'json' : 'yaml'}`);

cases.forEach((c, i) => {
  test(`bad spec: ${c.name}`, () => {
    const path = fileOf(c, i);
    writeFileSync(path, typeof c.spec === 'string' ? c.spec : c.json ? JSON.stringify(c.spec) : stringify(c.spec));
    assert.throws(
      () => readSpecFile(path),
      (err: Error) => err instanceof SpecError && err.message.includes(path) && c.error.test(err.message),
    );
  });
});

/**
 * The commands as a user runs them, two processes for the whole corpus (each file is one case's):
 * `validate` and `register` of the folder refuse it, naming every file with its own problem, and
 * register refuses before it tries to reach Temporal (so nothing was started).
 */
test('perennial validate and register of the folder name every bad file and its field', async () => {
  const [validated, registered] = await Promise.all([perennial(['validate', dir]), perennial(['register', dir])]);
  for (const [command, result] of [
    ['validate', validated],
    ['register', registered],
  ] as const) {
    assert.equal(result.code, 1, `${command} accepted it: ${result.stdout}`);
    assert.match(
      result.stderr,
      new RegExp(`^perennial: ${command === 'validate' ? 'not valid' : 'nothing registered'}: ${cases.length} problem`),
    );
    assert.doesNotMatch(result.stderr, /cannot reach Temporal/, `${command} got past validation`);
    assert.equal(result.stdout, '', command);
    // One problem per file: its first line unindented, its fields indented under it.
    const parts = result.stderr.split(/\n(?=\S)/);
    cases.forEach((c, i) => {
      const part = parts.find((p) => p.includes(fileOf(c, i)));
      assert.ok(part, `${command} does not name ${fileOf(c, i)} (${c.name})`);
      assert.match(part, c.error, `${command}: ${c.name}`);
    });
  }
});

test('the corpus base spec itself is valid, so each case fails for its one change', async () => {
  const path = join(tempDir(), 'base.yaml');
  writeFileSync(path, stringify(base));
  const result = await perennial(['validate', path]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /valid spec for model "bad-spec"/);
});
