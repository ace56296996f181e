/**
 * The evaluation gates on the real stack (Temporal, MLflow, the worker's tfjs, SQLite).
 * - Older data: champion v1 learns Seattle 2012-2013; then the last year comes back with every
 *   label moved to the next class, and the retrain (window sinceChampion) trains only on that. Its
 *   challenger wins on the recent holdout (where v1 is wrong by construction) and loses on v1's
 *   training period (where it is wrong by construction): the older-data gate stops it.
 * - Speed: a first retrain whose spec allows 0.001 ms per batch is stopped by the speed gate; a
 *   second retrain whose challenger may be at most 0.01x as slow as the champion, likewise.
 * Each checks the decisions, the outcome, the status, the `evaluation.json` artifact and the
 * MLflow metrics, which must all say the same numbers.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { experimentName } from '../../adapters/mlflow/model-files.ts';
import { retrainWorkflowId } from '../../core/messages.ts';
import type { GateResult } from '../../core/gates/result.ts';
import { num } from '../../core/gates/result.ts';
import type { ModelSpec } from '../../core/spec.ts';
import { labelClasses } from '../../core/spec-reading.ts';
import { weatherData } from '../../stack/demo.ts';
import { eventually, seedRecords, startStack, stopWhenDone, testSpec } from '../helpers/stack.ts';
import { startWebhookReceiver } from '../helpers/webhook.ts';

let stack: Awaited<ReturnType<typeof startStack>>;
let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;
before(async () => {
  stack = await startStack();
  hook = await startWebhookReceiver();
});

const retrainStatus = (model: string, n: number) => stack.client.retrainStatus(retrainWorkflowId(model, n));

async function outcomeOf(model: string, n: number, outcome: string) {
  return eventually(
    `retrain #${n} of ${model}: ${outcome}`,
    async () => {
      const status = await retrainStatus(model, n);
      assert.ok(!['promoted', 'not-better', 'invalid-data'].includes(status.stage) || status.stage === outcome, status.stage);
      return status.stage === outcome ? status : undefined;
    },
    300_000,
  );
}

/** The retrain's MLflow run with its evaluation.json. */
async function recordedEvaluation(model: string, outcome: string) {
  const experimentId = await stack.mlflow.getOrCreateExperiment(experimentName(model));
  // The stage shows the outcome a moment before the run is tagged with it.
  const run = await eventually(`a retrain run with outcome ${outcome}`, async () => {
    const [found] = await stack.mlflow.searchRuns([experimentId], `tags.\`perennial.outcome\` = '${outcome}'`);
    return found;
  });
  const body = Buffer.from(await stack.mlflow.downloadArtifact(run.artifactUri, 'evaluation.json')).toString('utf8');
  return { run, evaluation: JSON.parse(body) as { passed: boolean; championVersion: string | null; gates: GateResult[] } };
}

/** The same numbers in the status, evaluation.json and the run's metrics. */
function assertRecordedAlike(gates: GateResult[] | undefined, recorded: Awaited<ReturnType<typeof recordedEvaluation>>) {
  assert.ok(gates, 'the status has the gates');
  assert.deepEqual(recorded.evaluation.gates, gates);
  for (const gate of gates) for (const [key, value] of Object.entries(gate.metrics)) assert.equal(recorded.run.metrics[key], value, key);
  assert.equal(recorded.run.tags['perennial.gates'], 'failed');
  assert.equal(recorded.evaluation.passed, false);
}

test(
  'a challenger better on recent data but worse on the champion’s training period is stopped by the older-data gate',
  { timeout: 15 * 60_000 },
  async (t) => {
    const base = testSpec();
    const spec: ModelSpec = testSpec({
      training: { ...base.training, window: { kind: 'sinceChampion' } },
      evaluation: {
        olderData: {},
        slices: { columns: ['precipitation'], minRows: 20 },
        size: { maxRatioToChampion: 1 },
        // Only reported here: its limits are the other test's.
        speed: { maxSlowdown: 1000 },
      },
    });
    const { seed } = weatherData();
    const seeded = await seedRecords(stack.store, spec);
    await stack.client.register(spec);
    stopWhenDone(t, stack, spec.name);
    await eventually(
      'champion v1',
      async () => ((await stack.client.status(spec.name)).championVersion === '1' ? true : undefined),
      300_000,
    );
    const first = await retrainStatus(spec.name, 1);
    assert.deepEqual(
      first.decisions.find((d) => d.what === 'older-data gate skipped')?.reasons,
      ['no champion: no training period to compare on'],
      'the first retrain has no champion whose training period it could be judged on',
    );

    const classes = labelClasses(spec.label);
    const moved = seed
      .slice(-365)
      .map((r) => ({ ...r, [spec.label.name]: classes[(classes.indexOf(String(r[spec.label.name])) + 1) % classes.length] }));
    await seedRecords(stack.store, spec, moved, 'relabelled');
    await stack.client.retrain(spec.name, { reason: 'the labels moved', requestedBy: 'ana' });
    const status = await outcomeOf(spec.name, 2, 'failed-gate');

    const whats = status.decisions.map((d) => d.what);
    assert.ok(whats.includes('challenger beats the champion'), JSON.stringify(whats));
    assert.deepEqual(
      whats.filter((w) => w.endsWith(' gate passed') || w.endsWith(' gate failed') || w.endsWith(' gate skipped')),
      ['older-data gate failed', 'slices gate passed', 'size gate passed', 'speed gate passed'],
    );
    assert.ok(!whats.some((w) => w.startsWith('registered version')), 'nothing registered after a failed gate');
    assert.equal(status.challengerVersion, undefined);

    const older = status.gates!.find((g) => g.gate === 'olderData')!;
    const m = (k: string) => older.metrics[`gate.older_data.${k}`];
    // v1's training period is every seed record: the reference is all of them, the newest last.
    assert.equal(m('rows'), seeded);
    assert.ok(m('challenger.accuracy') < m('champion.accuracy') - 0.02, JSON.stringify(older.metrics));
    const [summary, ...checks] = older.lines;
    assert.match(
      summary,
      new RegExp(
        `^${seeded} reference records \\(the champion's training period, records up to id (\\d+), ids \\d+\\.\\.\\1\\): challenger accuracy `,
      ),
    );
    assert.deepEqual(checks, [
      `accuracy challenger ${num(m('challenger.accuracy'))} vs champion ${num(m('champion.accuracy'))}: change ${num(
        m('challenger.accuracy') - m('champion.accuracy'),
      )} >= minAbsoluteChange -0.0200: fails`,
    ]);
    const last = status.decisions.at(-1)!;
    assert.equal(last.what, 'challenger failed the older-data gate: keeping the champion');
    assert.deepEqual(
      last.reasons,
      older.lines.map((l) => `older-data: ${l}`),
    );

    // The comparative parts ran against v1: same architecture, so the size ratio is 1.
    const size = status.gates!.find((g) => g.gate === 'size')!;
    assert.equal(size.metrics['gate.size.ratio_to_champion'], 1);
    assert.ok(status.gates!.find((g) => g.gate === 'speed')!.metrics['gate.speed.champion.p50_ms'] > 0);

    const recorded = await recordedEvaluation(spec.name, 'failed-gate');
    assert.equal(recorded.evaluation.championVersion, '1');
    assertRecordedAlike(status.gates, recorded);

    assert.equal((await stack.mlflow.getVersionByAlias(spec.name, 'champion'))?.version, '1');
    await eventually('the lifecycle to record the outcome', async () => {
      const s = await stack.client.status(spec.name);
      return s.history.some((h) => h.what === 'retrain #2: failed-gate') ? s : undefined;
    });
  },
);

test('a too-slow challenger is stopped by the speed gate', { timeout: 10 * 60_000 }, async (t) => {
  const spec = testSpec({
    evaluation: { speed: { maxP50Ms: 0.001, repeats: 5 } },
    alerts: { webhooks: [{ url: hook.url, kinds: ['retrain'] }] },
  });
  await seedRecords(stack.store, spec);
  await stack.client.register(spec);
  stopWhenDone(t, stack, spec.name);
  const status = await outcomeOf(spec.name, 1, 'failed-gate');

  const [speed] = status.gates!;
  assert.equal(speed.gate, 'speed');
  const p50 = speed.metrics['gate.speed.challenger.p50_ms'];
  const p99 = speed.metrics['gate.speed.challenger.p99_ms'];
  assert.deepEqual(speed.lines, [
    `5 timed predictions of 64 rows: challenger p50 ${num(p50)} ms, p99 ${num(p99)} ms; no champion`,
    `challenger p50 ms ${num(p50)} <= maxP50Ms 0.0010: fails`,
    'no champion: maxSlowdown not judged',
  ]);
  const last = status.decisions.at(-1)!;
  assert.equal(last.what, 'challenger failed the speed gate: keeping the champion');
  assert.equal(status.decisions.at(-2)!.what, 'speed gate failed');

  const recorded = await recordedEvaluation(spec.name, 'failed-gate');
  assert.equal(recorded.evaluation.championVersion, null);
  assertRecordedAlike(status.gates, recorded);
  assert.equal(await stack.mlflow.getVersionByAlias(spec.name, 'challenger'), undefined, 'no version registered');
  const lifecycle = await eventually('the lifecycle to record the outcome', async () => {
    const s = await stack.client.status(spec.name);
    return s.history.some((h) => h.what === 'retrain #1: failed-gate') ? s : undefined;
  });
  assert.equal(lifecycle.championVersion, undefined);
  // Whoever follows the retrains hears why this one stopped.
  const alert = await eventually('the failed-gate alert', async () =>
    hook.received.map((m) => m.text).find((t) => t.includes(`${spec.name}: challenger failed the speed gate`)),
  );
  assert.match(alert, /speed: challenger p50 ms [\d.]+ <= maxP50Ms 0\.0010: fails/);
});

test('a challenger much slower than the champion it would replace is stopped by the speed gate', { timeout: 10 * 60_000 }, async (t) => {
  // maxSlowdown 0.01: the challenger must predict 100 times faster than the champion, which no
  // model of the same family does. minImprovement -1 lets it past the holdout comparison to the gate.
  const spec = testSpec({ evaluation: { minImprovement: -1, speed: { maxSlowdown: 0.01, repeats: 5 } } });
  await seedRecords(stack.store, spec);
  await stack.client.register(spec);
  stopWhenDone(t, stack, spec.name);
  await eventually('champion v1', async () => ((await stack.client.status(spec.name)).championVersion === '1' ? true : undefined), 300_000);
  const first = await retrainStatus(spec.name, 1);
  assert.ok(first.gates?.[0].lines.includes('no champion: maxSlowdown not judged'), 'the first retrain has nothing to be slower than');

  await stack.client.retrain(spec.name, { reason: 'a faster model, please', requestedBy: 'ana' });
  const status = await outcomeOf(spec.name, 2, 'failed-gate');
  const [speed] = status.gates!;
  const slowdown = speed.metrics['gate.speed.slowdown_p50'];
  assert.ok(speed.metrics['gate.speed.champion.p50_ms'] > 0 && slowdown > 0.01, JSON.stringify(speed.metrics));
  assert.ok(
    speed.lines.includes(`p50 slowdown vs the champion ${num(slowdown)} <= maxSlowdown ${num(0.01)}: fails`),
    speed.lines.join('\n'),
  );
  assert.equal(status.decisions.at(-1)!.what, 'challenger failed the speed gate: keeping the champion');
  const recorded = await recordedEvaluation(spec.name, 'failed-gate');
  assert.equal(recorded.evaluation.championVersion, '1');
  assertRecordedAlike(status.gates, recorded);
  assert.equal((await stack.mlflow.getVersionByAlias(spec.name, 'champion'))?.version, '1');
});
