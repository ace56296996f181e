/**
 * The fleet view reads search attributes only. A retrain's memo (its trigger) is ciphertext under
 * the payload codec; a listing process without that key (a CLI set up without it, or a team
 * sharing the namespace with its own key) must still list the fleet, not fail on the memo.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { AesGcmCodec } from '../../codec/aes-gcm.ts';
import { listFleet } from '../../client/fleet.ts';
import { ModelNameKey, StageKey } from '../../core/messages.ts';
import { eventually } from '../helpers/stack.ts';
import { temporalAddress } from '../helpers/services.ts';

const connection = await Connection.connect({ address: await temporalAddress() });
after(() => connection.close());

test('perennial list lists the fleet past a retrain whose memo it cannot decrypt', async () => {
  const key = { id: 'other-team', key: randomBytes(32) };
  const encrypting = new Client({
    connection,
    dataConverter: { payloadCodecs: [new AesGcmCodec({ current: key, byId: new Map([[key.id, key]]) })] },
  });
  const plain = new Client({ connection });
  const model = `enc-${randomUUID().slice(0, 8)}`;
  // Never run: no worker polls these queues. They only need to be listed as running.
  const taskQueue = `nobody-${randomUUID()}`;
  const lifecycle = await plain.workflow.start('modelLifecycle', {
    taskQueue,
    workflowId: `model/${model}`,
    args: [],
    typedSearchAttributes: [
      { key: ModelNameKey, value: model },
      { key: StageKey, value: 'monitoring' },
    ],
  });
  const retrain = await encrypting.workflow.start('retrain', {
    taskQueue,
    workflowId: `model/${model}/retrain/1`,
    args: [],
    memo: { trigger: { reason: 'drift', rules: ['drift'] } },
    typedSearchAttributes: [
      { key: ModelNameKey, value: model },
      { key: StageKey, value: 'awaiting-approval' },
    ],
  });
  try {
    const row = await eventually('the fleet view lists the model and its retrain', async () => {
      const found = (await listFleet(plain)).find((r) => r.model === model);
      return found?.retrainStage ? found : undefined;
    });
    // Once visible, the SDK's own listing fails on this memo: the case this guards against.
    await assert.rejects(async () => {
      for await (const wf of plain.workflow.list({ query: `WorkflowId = '${retrain.workflowId}'` })) void wf;
    }, /binary\/encrypted/);
    assert.equal(row.stage, 'monitoring');
    assert.equal(row.retrainStage, 'awaiting-approval');
    assert.equal(row.pendingApprovals, 1);
  } finally {
    await Promise.all([lifecycle.terminate('test over'), retrain.terminate('test over')]);
  }
});
