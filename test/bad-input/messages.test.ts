/**
 * Bad signals and updates to a running lifecycle and a retrain waiting for approval, on the real
 * Temporal dev server (with MLflow, the model server and a worker). Each row is sent as a person
 * or a script would send it; an update must fail with a message naming the field, a signal must
 * leave a refusal naming the field in the recorded history, and nothing may change: champion,
 * deployment, registry alias, retrain count, the waiting retrain's stage.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { request } from 'undici';
import { lifecycleWorkflowId, retrainWorkflowId } from '../../core/messages.ts';
import type { ModelSpec } from '../../core/spec.ts';
import { eventually, seedRecords, startStack, testSpec } from '../helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startStack>>;
/** A model with champion v1 and nothing running. */
let idle: ModelSpec;
/** A model whose first retrain waits for approval (only ana may review). */
let waiting: ModelSpec;

before(async () => {
  stack = await startStack();
  idle = testSpec({ approval: { required: false, reviewers: ['ana'] } });
  waiting = testSpec({ approval: { required: true, timeout: '1h', onTimeout: 'reject', reviewers: ['ana'] } });
  for (const spec of [idle, waiting]) {
    await seedRecords(stack.store, spec);
    await stack.client.register(spec);
  }
  await Promise.all([
    eventually('champion v1', async () => ((await stack.client.status(idle.name)).championVersion === '1' ? true : undefined), 240_000),
    eventually(
      'a retrain waiting for approval',
      async () => ((await stack.client.retrainStatus(retrainWorkflowId(waiting.name, 1))).stage === 'awaiting-approval' ? true : undefined),
      240_000,
    ),
  ]);
});

interface Row {
  name: string;
  /** The idle model's lifecycle, the waiting model's lifecycle, or its retrain. */
  to: 'idle' | 'waiting' | 'retrain';
  kind: 'signal' | 'update';
  message: string;
  args: unknown[];
  /** An update's error, or the recorded refusal (what and reasons on one line) of a signal. */
  expect: RegExp;
}

const corpus: Row[] = [
  {
    name: 'rollback signal to a version that does not exist',
    to: 'idle',
    kind: 'signal',
    message: 'rollback',
    args: [{ reason: 'x', toVersion: '99' }],
    expect: /rollback refused: toVersion: 99 is not a registered version/,
  },
  {
    name: 'rollback signal with a version that is not a number',
    to: 'idle',
    kind: 'signal',
    message: 'rollback',
    args: [{ reason: 'x', toVersion: 'abc' }],
    expect: /ignored rollback signal with invalid input \| toVersion: toVersion must be a registered version number/,
  },
  {
    name: 'rollback signal without a reason',
    to: 'idle',
    kind: 'signal',
    message: 'rollback',
    args: [{ toVersion: '1' }],
    expect: /ignored rollback signal with invalid input \| reason: /,
  },
  {
    name: 'rollback signal without input',
    to: 'idle',
    kind: 'signal',
    message: 'rollback',
    args: [],
    expect: /ignored rollback signal with invalid input \| \(input\): /,
  },
  {
    name: 'rollback signal to the champion itself',
    to: 'idle',
    kind: 'signal',
    message: 'rollback',
    args: [{ reason: 'x', toVersion: '1' }],
    expect: /rollback refused: v1 is already the champion/,
  },
  {
    name: 'rollback update to a version that does not exist',
    to: 'idle',
    kind: 'update',
    message: 'rollback',
    args: [{ reason: 'x', toVersion: '99' }],
    expect: /toVersion: 99 is not a registered version/,
  },
  {
    name: 'rollback update with a version that is not a number',
    to: 'idle',
    kind: 'update',
    message: 'rollback',
    args: [{ reason: 'x', toVersion: '1; drop' }],
    expect: /invalid rollback: toVersion: toVersion must be a registered version number/,
  },
  {
    name: 'rollback update with an empty reason',
    to: 'idle',
    kind: 'update',
    message: 'rollback',
    args: [{ reason: '  ', toVersion: '1' }],
    expect: /invalid rollback: reason: say why you are rolling back/,
  },
  {
    name: 'rollback update to the champion itself',
    to: 'idle',
    kind: 'update',
    message: 'rollback',
    args: [{ reason: 'x', toVersion: '1' }],
    expect: /toVersion: v1 is already the champion/,
  },
  {
    name: 'rollback update with nothing to return to',
    to: 'idle',
    kind: 'update',
    message: 'rollback',
    args: [{ reason: 'x' }],
    expect: /toVersion: .* has no earlier champion to return to/,
  },
  {
    name: 'retrain signal with an empty reason',
    to: 'idle',
    kind: 'signal',
    message: 'retrain',
    args: [{ reason: '' }],
    expect: /ignored retrain signal with invalid input \| reason: say why/,
  },
  {
    name: 'retrain signal with a number for a reason',
    to: 'idle',
    kind: 'signal',
    message: 'retrain',
    args: [{ reason: 5 }],
    expect: /ignored retrain signal with invalid input \| reason: /,
  },
  {
    name: 'dataArrived signal with negative rows',
    to: 'idle',
    kind: 'signal',
    message: 'dataArrived',
    args: [{ rows: -1, source: 'x' }],
    expect: /ignored dataArrived signal with invalid input \| rows: /,
  },
  {
    name: 'dataArrived signal with rows as text',
    to: 'idle',
    kind: 'signal',
    message: 'dataArrived',
    args: [{ rows: 'ten' }],
    expect: /ignored dataArrived signal with invalid input \| rows: /,
  },
  {
    name: 'a misspelt signal name',
    to: 'idle',
    kind: 'signal',
    message: 'rolback',
    args: [{ reason: 'x', toVersion: '1' }],
    expect: /ignored unknown signal "rolback"/,
  },
  {
    name: 'setPolicies update without who and why',
    to: 'idle',
    kind: 'update',
    message: 'setPolicies',
    args: [{ policies: {}, changedBy: '', reason: '' }],
    expect: /changedBy: changedBy is required/,
  },
  {
    name: 'setPolicies update with a misspelt key',
    to: 'idle',
    kind: 'update',
    message: 'setPolicies',
    args: [{ policies: { rules: [], cooldwn: '1h' }, changedBy: 'ana', reason: 'x' }],
    expect: /policies\.cooldwn: unknown key, did you mean "cooldown"\?/,
  },
  {
    name: 'setPolicies update with a rule missing its condition',
    to: 'idle',
    kind: 'update',
    message: 'setPolicies',
    args: [{ policies: { rules: [{ name: 'x' }] }, changedBy: 'ana', reason: 'x' }],
    expect: /policies\.rules\.0\.when/,
  },
  { name: 'an unknown update name', to: 'idle', kind: 'update', message: 'rolback', args: [{ reason: 'x' }], expect: /rolback/ },
  {
    name: 'approve signal to a lifecycle without a reviewer',
    to: 'waiting',
    kind: 'signal',
    message: 'approve',
    args: [{ comment: 'ok' }],
    expect: /ignored approve signal with invalid input \| reviewer: /,
  },
  {
    name: 'approve signal to a lifecycle from someone not allowed',
    to: 'waiting',
    kind: 'signal',
    message: 'approve',
    args: [{ reviewer: 'mallory' }],
    expect: /refused approve from mallory: not an allowed reviewer/,
  },
  {
    name: 'reject signal to a lifecycle with a blank reviewer',
    to: 'waiting',
    kind: 'signal',
    message: 'reject',
    args: [{ reviewer: '   ' }],
    expect: /ignored reject signal with invalid input \| reviewer: reviewer is required/,
  },
  {
    name: 'approve signal to the retrain with a number for reviewer',
    to: 'retrain',
    kind: 'signal',
    message: 'approve',
    args: [{ reviewer: 7 }],
    expect: /ignored approve signal with invalid input \| reviewer: /,
  },
  {
    name: 'approve signal to the retrain from someone not allowed',
    to: 'retrain',
    kind: 'signal',
    message: 'approve',
    args: [{ reviewer: 'eve' }],
    expect: /refused approve from eve: not an allowed reviewer/,
  },
  {
    name: 'a misspelt signal name to the retrain',
    to: 'retrain',
    kind: 'signal',
    message: 'aprove',
    args: [{ reviewer: 'ana' }],
    expect: /ignored unknown signal "aprove"/,
  },
  {
    name: 'review update with an unknown decision',
    to: 'retrain',
    kind: 'update',
    message: 'review',
    args: [{ decision: 'maybe', reviewer: 'ana' }],
    expect: /invalid review: decision: /,
  },
  {
    name: 'review update without a reviewer',
    to: 'retrain',
    kind: 'update',
    message: 'review',
    args: [{ decision: 'approve', reviewer: '' }],
    expect: /invalid review: reviewer: reviewer is required/,
  },
  {
    name: 'review update from someone not allowed',
    to: 'retrain',
    kind: 'update',
    message: 'review',
    args: [{ decision: 'approve', reviewer: 'mallory' }],
    expect: /reviewer: mallory may not review/,
  },
];

const handleOf = (row: Row) =>
  stack.client.temporal.workflow.getHandle(
    row.to === 'retrain' ? retrainWorkflowId(waiting.name, 1) : lifecycleWorkflowId(row.to === 'idle' ? idle.name : waiting.name),
  );

/** What is recorded where the row's message went, one line per entry: "what | reason | reason". */
async function recorded(row: Row): Promise<string[]> {
  const entries =
    row.to === 'retrain'
      ? (await stack.client.retrainStatus(retrainWorkflowId(waiting.name, 1))).decisions
      : (await stack.client.status(row.to === 'idle' ? idle.name : waiting.name)).history;
  return entries.map((e) => [e.what, ...e.reasons].join(' | '));
}

async function servedChampion(model: string) {
  const res = await request(`${stack.servingUrl}/v1/models/${model}/deployment`);
  return res.statusCode === 200
    ? ((await res.body.json()) as { champion: { version: string }; canary?: unknown })
    : (await res.body.dump(), undefined);
}

/** Everything a bad message must leave as it was. */
async function snapshot() {
  const [a, b, retrain] = await Promise.all([
    stack.client.status(idle.name),
    stack.client.status(waiting.name),
    stack.client.retrainStatus(retrainWorkflowId(waiting.name, 1)),
  ]);
  return {
    idle: {
      champion: a.championVersion,
      retrains: a.retrainCount,
      pending: a.pendingTrigger,
      paused: a.paused,
      policies: a.policies,
      served: await servedChampion(idle.name),
      alias: (await stack.mlflow.getVersionByAlias(idle.name, 'champion'))?.version,
    },
    waiting: {
      champion: b.championVersion,
      retrains: b.retrainCount,
      stage: retrain.stage,
      challenger: (await stack.mlflow.getVersionByAlias(waiting.name, 'challenger'))?.version,
      served: await servedChampion(waiting.name),
    },
  };
}

describe('bad signals and updates change nothing', () => {
  test('the corpus is big enough', () => assert.ok(corpus.length >= 15, `${corpus.length} rows`));

  for (const row of corpus) {
    test(`${row.kind} ${row.message}: ${row.name}`, async () => {
      const before = await snapshot();
      const handle = handleOf(row);
      if (row.kind === 'update') {
        await assert.rejects(handle.executeUpdate(row.message, { args: row.args as [unknown] }), (err: Error) => {
          const message = [err.message, (err.cause as Error | undefined)?.message].join(' / ');
          assert.match(message, row.expect);
          return true;
        });
      } else {
        const seen = (await recorded(row)).length;
        await handle.signal(row.message, ...row.args);
        const entry = await eventually(
          `a refusal matching ${row.expect}`,
          async () => (await recorded(row)).slice(seen).find((line) => row.expect.test(line)),
          60_000,
        );
        assert.match(entry, row.expect);
      }
      assert.equal((await handle.describe()).status.name, 'RUNNING');
      assert.deepEqual(await snapshot(), before);
    });
  }
});
