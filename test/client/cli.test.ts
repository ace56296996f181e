/**
 * The `perennial` command as a user runs it (a child process), against the real Temporal dev
 * server, a worker and the model server.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { stringify } from 'yaml';
import { retrainWorkflowId } from '../../core/messages.ts';
import { WEATHER_CSV } from '../../stack/demo.ts';
import { runCli } from '../helpers/cli.ts';
import { eventually, startStack, testSpec } from '../helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startStack>>;
before(async () => {
  stack = await startStack();
});

const perennial = (...args: string[]) => runCli(stack, ...args);

test('validate explains what is wrong with a spec and exits 1', async () => {
  const path = join(stack.dataDir, 'bad.json');
  writeFileSync(path, JSON.stringify({ name: 'x', features: [{ name: 'a' }], label: { name: 'y', classes: ['only-one'] } }));
  const result = await perennial('validate', path);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^perennial: .*bad\.json is not a valid model spec:\n {2}- label\.classes: Too small/);
});

test('import, register, status and approve from the command line', async () => {
  const spec = testSpec({ approval: { required: true, timeout: '10m', onTimeout: 'reject' } });
  const specPath = join(stack.dataDir, `${spec.name}.yaml`);
  writeFileSync(specPath, stringify(spec));

  const imported = await perennial('import', specPath, WEATHER_CSV, '--where', 'location=Seattle');
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, /^1461 records added to t-[0-9a-f]+; its lifecycle is not running/);

  const registered = await perennial('register', specPath);
  assert.equal(registered.code, 0, registered.stderr);
  await eventually('the retrain waiting for approval', async () =>
    (await stack.client.retrainStatus(retrainWorkflowId(spec.name, 1))).stage === 'awaiting-approval' ? true : undefined,
  );
  const status = JSON.parse((await perennial('status', spec.name, '--json')).stdout) as {
    activeRetrain?: { workflowId: string; stage: string };
  };
  assert.equal(status.activeRetrain?.workflowId, retrainWorkflowId(spec.name, 1));
  assert.equal(status.activeRetrain?.stage, 'awaiting-approval', "the retrain's own stage");

  // The reviewer comes from configuration (here an empty config folder, then PERENNIAL_REVIEWER), not a flag alone.
  const configHome = process.env.XDG_CONFIG_HOME;
  process.env.XDG_CONFIG_HOME = stack.dataDir;
  const flagOnly = await perennial('approve', spec.name, '--reviewer', 'ana');
  assert.equal(flagOnly.code, 1);
  assert.match(
    flagOnly.stderr,
    /^perennial: no reviewer identity configured: set PERENNIAL_REVIEWER, or "reviewer: <your name>" in .*config\.yaml \(--reviewer alone is not accepted\)/,
  );
  process.env.PERENNIAL_REVIEWER = 'ana';
  try {
    const impostor = await perennial('approve', spec.name, '--reviewer', 'bob');
    assert.equal(impostor.code, 1);
    assert.match(impostor.stderr, /^perennial: --reviewer bob disagrees with your configured identity "ana" \(PERENNIAL_REVIEWER\)/);
    const approved = await perennial('approve', spec.name, '--comment', 'ship it');
    assert.equal(approved.code, 0, approved.stderr);
    assert.equal(approved.stdout.trim(), 'approved by ana');
  } finally {
    delete process.env.PERENNIAL_REVIEWER;
    if (configHome === undefined) delete process.env.XDG_CONFIG_HOME;
    else process.env.XDG_CONFIG_HOME = configHome;
  }
  await eventually('champion v1', async () => ((await stack.client.status(spec.name)).championVersion === '1' ? true : undefined));

  // Policies change from a file; a bad file changes nothing and says why.
  const bad = join(stack.dataDir, 'bad-policies.yaml');
  writeFileSync(bad, stringify({ rules: [{ name: 'acc', when: { metric: 'accuracy', below: 0.7, above: 0.9 } }] }));
  const refused = await perennial('policies', spec.name, bad, '--reason', 'stricter');
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /^perennial: invalid policy change:\n {2}- policies\.rules\.0\.when: metric "accuracy" needs exactly one of below, above, atLeast/,
  );
  const good = join(stack.dataDir, 'policies.yaml');
  writeFileSync(
    good,
    stringify({ cooldown: '1h', rules: [{ name: 'acc', when: { metric: 'accuracy', below: 0.7 }, breaches: 2, within: 3 }] }),
  );
  const changed = await perennial('policies', spec.name, good, '--reason', 'stricter', '--by', 'ana');
  assert.equal(changed.code, 0, changed.stderr);
  assert.equal(changed.stdout.trim(), 'policies updated: acc');
  assert.equal((await stack.client.status(spec.name)).policies.cooldown, '1h');
});

test('commands on a model that is not registered fail with a readable message', async () => {
  const result = await perennial('retrain', 'no-such-model', '--reason', 'why not');
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^perennial: .*(not found|no-such-model)/i);
});
