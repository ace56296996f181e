/**
 * The online training mode on real services: a gbdt champion keeps learning from each batch of new
 * labels (an online update boosts on from its trees, on the records since its training data), every
 * update is a version that went through the evaluation and the canary like any retrain's, and once
 * the updates ran their course (fullRetrainAfter) the next batch makes a full retrain: a sweep from scratch.
 *
 * PERENNIAL_CAPTURE=v14 also writes the lifecycle's and the first update's histories as replay fixtures.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { lifecycleWorkflowId, retrainWorkflowId } from '../../core/messages.ts';
import { captureFixture } from '../replay/capture-fixture.ts';
import { weatherData } from '../../stack/demo.ts';
import { eventually, seedRecords, startStack, testSpec } from '../helpers/stack.ts';
import { finishedRetrain, sweepOf } from '../helpers/retrains.ts';

let stack: Awaited<ReturnType<typeof startStack>>;
before(async () => {
  stack = await startStack();
});

/** A file of a registered version's model, as JSON. */
async function modelJson(model: string, version: string, file: string) {
  const run = await stack.mlflow.getRun((await stack.mlflow.getModelVersion(model, version)).runId);
  return JSON.parse(new TextDecoder().decode(await stack.mlflow.downloadArtifact(run.artifactUri, `model/${file}`)));
}
/** Rounds boosted, and the first `best` of them the model predicts with (its best round on validation). */
const roundsOf = async (model: string, version: string) => {
  const json = await modelJson(model, version, 'model.json');
  return { all: json.rounds as number, best: json.bestRounds as number };
};
const profileOf = (model: string, version: string) => modelJson(model, version, 'profile.json');

test(
  'online updates add trees to the champion batch by batch, through the canary; then a full retrain',
  { timeout: 15 * 60_000 },
  async () => {
    const base = testSpec();
    const spec = testSpec({
      training: {
        ...base.training,
        mode: 'online',
        online: { batchRows: 100, epochs: 3, fullRetrainAfter: 2, skipApproval: true },
        sweep: {
          ...base.training.sweep,
          families: { gbdt: { numLeaves: { type: 'int', low: 4, high: 15 } } },
        },
      },
      // A batch of a season's weather may lack a class; the gate is not what is tested here.
      validation: { ...base.validation, minClassCount: 1 },
      evaluation: { ...base.evaluation, minImprovement: -1 },
      // Full retrains wait for a person; updates do not (skipApproval).
      approval: { required: true, timeout: '10m', onTimeout: 'reject' },
    });
    const approve = (n: number) =>
      eventually(
        `retrain #${n} to await approval`,
        () => stack.client.review(spec.name, 'approve', { reviewer: 'ana', comment: 'full retrain looks right' }),
        300_000,
      );
    const rows = weatherData().seed;
    await seedRecords(stack.store, spec, rows.slice(0, 380), '2012 and early 2013');
    await stack.client.register(spec);
    await approve(1);
    const first = await finishedRetrain(stack, spec.name, 1);
    assert.equal(first.outcome, 'promoted');
    const v1 = await roundsOf(spec.name, '1');

    // A batch of 120 new labels: the next monitoring cycle starts an update of v1, not a sweep.
    await seedRecords(stack.store, spec, rows.slice(380, 500), 'spring 2013');
    const second = await finishedRetrain(stack, spec.name, 2);
    assert.match(second.trigger, /^trigger: online update of v1: 120 new labels \(batchRows 100\)$/);
    assert.equal(second.outcome, 'promoted', JSON.stringify(second.decisions.at(-1)));
    assert.ok(
      second.decisions.some((d) => d.what === 'snapshot of 120 labelled records'),
      'it learned the records since v1 only',
    );
    assert.ok(second.decisions.some((d) => d.what === 'no review asked: an online update (training.online.skipApproval)'));
    const [update] = (await sweepOf(stack, spec.name, 2)).trials;
    assert.equal((await sweepOf(stack, spec.name, 2)).trials.length, 1, 'one trial: the champion continued');
    assert.equal(update.tags['perennial.warm_start_from'], 'v1');
    assert.equal(JSON.parse(update.tags['perennial.model_config']).family, 'gbdt');
    // The same path as any challenger: evaluated against the champion, registered, canaried, promoted.
    for (const step of ['challenger beats the champion', 'registered version 2 with alias challenger', 'promoted version 2 to champion'])
      assert.ok(
        second.decisions.some((d) => d.what.startsWith(step)),
        `${step}: ${second.decisions.map((d) => d.what).join(' | ')}`,
      );
    assert.ok(
      second.decisions.some((d) => /canary/.test(d.what)),
      'the update went through the canary',
    );
    // v2 is v1 as it serves (its best round) boosted on for 3 epochs of 10 rounds, and predicts with one of them.
    const v2 = await roundsOf(spec.name, '2');
    assert.equal(v2.all, v1.best + 30);
    assert.ok(v2.best > v1.best && v2.best <= v2.all, JSON.stringify({ v1, v2 }));
    // Drift is judged against what the lineage was fit to, not against the batch of 77 rows it trained on.
    assert.deepEqual(await profileOf(spec.name, '2'), await profileOf(spec.name, '1'));

    // The next batch updates v2, the update before.
    await seedRecords(stack.store, spec, rows.slice(500, 620), 'summer 2013');
    const third = await finishedRetrain(stack, spec.name, 3);
    assert.match(third.trigger, /online update of v2: /);
    assert.equal(third.outcome, 'promoted');
    assert.equal((await roundsOf(spec.name, '3')).all, v2.best + 30);
    assert.deepEqual((await stack.client.status(spec.name)).online, { promoted: 2, rejectedInARow: 0 });
    // Before the test's dev server suggests continuing as new (300 events, test/helpers/services.ts), which would start a fresh history.
    await captureFixture(stack.client.temporal, lifecycleWorkflowId(spec.name));
    await captureFixture(stack.client.temporal, retrainWorkflowId(spec.name, 2));

    // Two updates promoted (fullRetrainAfter 2): the next batch makes a full retrain, a sweep from scratch.
    await seedRecords(stack.store, spec, rows.slice(620), 'autumn 2013');
    await approve(4);
    const fourth = await finishedRetrain(stack, spec.name, 4);
    assert.match(fourth.trigger, /online: 2 updates promoted since the last full retrain \(fullRetrainAfter 2\)/);
    const trials = (await sweepOf(stack, spec.name, 4)).trials;
    assert.equal(trials.length, 2);
    for (const t of trials) {
      assert.equal(t.params.family, 'gbdt');
      assert.equal(t.tags['perennial.warm_start_from'], undefined);
    }
    // The full retrain started the count afresh.
    assert.deepEqual((await stack.client.status(spec.name)).online, { promoted: 0, rejectedInARow: 0 });
  },
);
