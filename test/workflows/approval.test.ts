/**
 * The approval gate as the README promises it, on the real stack: approve with a plain-JSON
 * signal (what the Temporal UI and `temporal workflow signal` send) to the lifecycle or straight
 * to the waiting retrain, and `approval.onTimeout` when nobody answers. Along the way, the search
 * attributes `ModelName`, `Stage` and `ChampionVersion` find the workflows through Temporal's
 * own visibility API, as the UI's filters do.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { request } from 'undici';
import { lifecycleWorkflowId, retrainWorkflowId } from '../../core/messages.ts';
import { eventually, registerSeeded, startStack, testSpec } from '../helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startStack>>;
before(async () => {
  stack = await startStack();
});

const retrainStatus = (model: string) => stack.client.retrainStatus(retrainWorkflowId(model, 1));

async function waitForStage(model: string, stage: string) {
  await eventually(
    `retrain #1 of ${model} at stage ${stage}`,
    async () => ((await retrainStatus(model)).stage === stage ? true : undefined),
    300_000,
  );
}

/** Workflow ids that Temporal's visibility store lists for a query, sorted. */
async function listed(query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of stack.client.temporal.workflow.list({ query })) ids.push(wf.workflowId);
  return ids.sort();
}

/** Visibility is eventually consistent: polls until the query lists exactly `ids`. */
async function waitForListing(query: string, ids: string[]) {
  const want = [...ids].sort();
  await eventually(
    `${query} to list ${want.join(', ')}`,
    async () => {
      const got = await listed(query);
      if (got.join() === want.join()) return true;
      throw new Error(`listed ${got.join(', ') || 'nothing'}`);
    },
    60_000,
  );
}

test(
  'approve by plain signal to the lifecycle; search attributes find the waiting retrain and the champion',
  { timeout: 10 * 60_000 },
  async () => {
    const spec = testSpec({ approval: { required: true, timeout: '10m', onTimeout: 'reject' } });
    const lifecycle = lifecycleWorkflowId(spec.name);
    const retrain = retrainWorkflowId(spec.name, 1);
    await registerSeeded(stack, spec);
    await waitForStage(spec.name, 'awaiting-approval');

    await waitForListing(`ModelName = '${spec.name}'`, [lifecycle, retrain, `${retrain}/sweep`]);
    await waitForListing(`ModelName = '${spec.name}' AND Stage = 'awaiting-approval'`, [retrain]);
    assert.deepEqual(await listed(`ModelName = '${spec.name}' AND ChampionVersion = '1'`), [], 'no champion yet');

    await stack.client.temporal.workflow
      .getHandle(lifecycle)
      .signal('approve', { reviewer: 'ana', comment: 'approved from the Temporal UI' });
    await waitForStage(spec.name, 'promoted');
    const { decisions } = await retrainStatus(spec.name);
    assert.ok(
      decisions.some((d) => d.what === 'approved by ana' && d.reasons[0] === 'approved from the Temporal UI'),
      JSON.stringify(decisions),
    );
    const version = await stack.mlflow.getModelVersion(spec.name, '1');
    assert.deepEqual([version.tags['perennial.review'], version.tags['perennial.reviewer']], ['approve', 'ana']);

    await waitForListing(`ModelName = '${spec.name}' AND ChampionVersion = '1'`, [lifecycle]);
    await waitForListing(`ModelName = '${spec.name}' AND Stage = 'promoted'`, [retrain]);
    assert.deepEqual(await listed(`ModelName = '${spec.name}' AND Stage = 'awaiting-approval'`), []);
  },
);

test('approve by plain signal sent straight to the waiting retrain workflow', { timeout: 10 * 60_000 }, async () => {
  const spec = testSpec({ approval: { required: true, timeout: '10m', onTimeout: 'reject' } });
  await registerSeeded(stack, spec);
  await waitForStage(spec.name, 'awaiting-approval');
  const retrain = stack.client.temporal.workflow.getHandle(retrainWorkflowId(spec.name, 1));
  // A signal without a reviewer is recorded and ignored; the gate keeps waiting.
  await retrain.signal('approve', { comment: 'who am I?' });
  await eventually('the ignored signal', async () =>
    (await retrainStatus(spec.name)).decisions.some((d) => d.what === 'ignored approve signal with invalid input') ? true : undefined,
  );
  assert.equal((await retrainStatus(spec.name)).stage, 'awaiting-approval');

  await retrain.signal('approve', { reviewer: 'bo' });
  await eventually('champion v1', async () => ((await stack.client.status(spec.name)).championVersion === '1' ? true : undefined));
  const { stage, decisions } = await retrainStatus(spec.name);
  assert.equal(stage, 'promoted');
  assert.ok(
    decisions.some((d) => d.what === 'approved by bo'),
    JSON.stringify(decisions),
  );
  assert.equal((await stack.mlflow.getModelVersion(spec.name, '1')).tags['perennial.reviewer'], 'bo');
});

test('nobody reviews before approval.timeout: onTimeout reject rejects and deploys nothing', { timeout: 10 * 60_000 }, async () => {
  const spec = testSpec({ approval: { required: true, timeout: '3s', onTimeout: 'reject' } });
  await registerSeeded(stack, spec);
  await waitForStage(spec.name, 'rejected');
  const { decisions } = await retrainStatus(spec.name);
  assert.deepEqual(decisions.find((d) => d.what.startsWith('rejected by'))?.reasons, ['no review within 3s']);
  assert.equal(decisions.filter((d) => d.what.startsWith('rejected by')).at(0)?.what, 'rejected by timeout');
  const version = await stack.mlflow.getModelVersion(spec.name, '1');
  assert.deepEqual([version.tags['perennial.review'], version.tags['perennial.reviewer']], ['reject', 'timeout']);
  assert.equal(await stack.mlflow.getVersionByAlias(spec.name, 'champion'), undefined);
  const res = await request(`${stack.servingUrl}/v1/models/${spec.name}/deployment`);
  await res.body.dump();
  assert.equal(res.statusCode, 404, 'nothing deployed');
  const status = await eventually('the lifecycle to record the rejection', async () => {
    const s = await stack.client.status(spec.name);
    return s.history.some((h) => h.what === 'retrain #1: rejected') ? s : undefined;
  });
  assert.equal(status.championVersion, undefined);
  await waitForListing(`ModelName = '${spec.name}' AND Stage = 'rejected'`, [retrainWorkflowId(spec.name, 1)]);
});
