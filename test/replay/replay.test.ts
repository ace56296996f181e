/**
 * Determinism guard: histories recorded by real runs (the demo: a lifecycle that trained,
 * monitored, detected drift and promoted; its retrains) must replay on today's workflow code.
 * A change that breaks them needs `patched()` and a new fixture (see capture.ts).
 *
 * Support rule (workflows/legacy/patches.ts): histories recorded by the code of the v3 fixture
 * set and later replay; every fixture that still replays is kept. Retired, because they took
 * code paths that the patches policy-rules-v2, drop-stale-triggers-on-promotion and
 * automl-sweep (now `deprecatePatch`) no longer have:
 * - v1-model_weather, v2-model_weather: lifecycles from before policy-rules-v2 (monitoring by
 *   summarizeProduction and the v1 policies);
 * - v1-model_weather_retrain_1, v1-model_weather_retrain_2: retrains from before automl-sweep
 *   (the spec's fixed candidates, trainCandidate).
 * The v2 retrains and sweep stay: they ran the sweep and had no alerts, and replay unchanged.
 * v5 was recorded after the retirement (the demo, with an unknown signal and a rollback to a
 * version that does not exist): its histories carry the `deprecatePatch` markers.
 * v6 holds two retrains with the shadow phase on (test/workflows/shadow.test.ts: one that holds
 * up and goes on through the canary to promotion, one rejected in shadow): they carry the
 * `shadow-phase` patch marker.
 * v7 holds the live strategies of deployment.strategy (test/workflows/canary.test.ts): a
 * sequential canary rolled back, an A/B test promoted, a direct promotion. No patch guards them:
 * only specs with `canary.verdict` or `deployment.strategy` take those paths, and histories
 * recorded before them have neither.
 * v8 holds two regression canaries rolled back by the sequential test on squared errors
 * (test/workflows/regression.test.ts): mpg-canary-mx5zfejr recorded before the
 * `regression-effect-scale` patch (τ = 0.1 x MSE, 43 canary labels to the verdict), and
 * mpg-canary-mx5zgu2u after it (the marker; τ = 0.5 x MSE, 19 labels).
 * v9 holds two lifecycles with the fleet view's search attributes (test/client/cli-list.test.ts,
 * captured with PERENNIAL_CAPTURE=v9: one promoted and monitored, one whose first challenger
 * awaits approval): they carry the `fleet-view-attributes` patch marker and its combined upserts;
 * the v3 to v5 lifecycles replay the one-attribute upserts they recorded before it.
 * v10 holds two lifecycles of the fleet's cheaper cycles (test/workflows/quiet-cycles.test.ts,
 * captured with PERENNIAL_CAPTURE=v10): one promoted, monitored by quiet cycles (a local
 * activity's marker, no monitorChampion) on its staggered phase until a rule on the champion's age
 * fired, and one awaiting approval without a timer. They carry the quiet-monitoring-cycles,
 * staggered-monitoring-cycles and idle-without-timer markers; v3 to v9 replay the full cycles,
 * interval timers and idle timers they recorded before them.
 * v11 holds the training permits (test/workflows/training-permits.test.ts, captured with
 * PERENNIAL_CAPTURE=v11): a sweep that asked for a permit where no limit was set and trained at
 * once, one that waited in the queue behind a terminated holder, and the permits workflow
 * itself. The sweeps carry the `training-permits` marker; v2 to v10 sweeps replay without asking.
 * Three v11 lifecycles were recorded later by the v11 code, before `pause-publishes-stage`: two
 * paused idle without a champion (test/client/cli-bulk.test.ts) and one paused while it waited
 * for its next cycle (test/workflows/lifecycle.test.ts); without the patch guard, the last one no
 * longer replays (its timer is cancelled where the history has none).
 * v12 holds the same three after the patch (captured with PERENNIAL_CAPTURE=v12): each pause
 * carries the marker and the stage it published at once.
 * v13 holds a sweep that learned from an earlier sweep (test/workflows/sweep-history.test.ts,
 * captured with PERENNIAL_CAPTURE=v13): it carries the `sweep-history` marker and the
 * readSweepHistory call; specs without `training.sweep.history` (every earlier fixture's) never reach it.
 * v14 holds a lifecycle in the online training mode (test/workflows/online.test.ts, captured with
 * PERENNIAL_CAPTURE=v14): a reviewed first retrain, then two online updates started by batches of
 * new labels; and the first update (a one-trial warm-start sweep on the labels since the
 * champion's, with no review asked: training.online.skipApproval). No patch guards them: only specs with `training.mode: online` take those
 * paths, and no earlier fixture's spec has it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { bundleWorkflows } from '../../worker/workflow-bundle.ts';

const dir = join(import.meta.dirname, 'histories');
// Bundled here from the source, in threads, as a worker does without a prebuilt bundle: the test
// below is about that path (npm test hands other files one prebuilt bundle).
delete process.env.PERENNIAL_WORKFLOW_BUNDLE;

test('recorded histories replay on the current workflow code', async () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  if (files.length === 0) throw new Error(`no replay fixtures in ${dir}`);
  // File names are `<fixture set>-<workflow id with / as _>.json` (see capture.ts); the real id
  // matters because child workflow ids derive from it.
  const histories = files.map((file) => ({
    workflowId: file
      .replace(/^[^-]+-/, '')
      .replace(/\.json$/, '')
      .replaceAll('_', '/'),
    history: historyFromJSON(JSON.parse(readFileSync(join(dir, file), 'utf8'))),
  }));
  // The worker's own bundle: every replayed workflow shares the one frozen copy of zod.
  const results = Worker.runReplayHistories({ workflowBundle: await bundleWorkflows() }, histories);
  for await (const result of results) {
    if (result.error) throw new Error(`${result.workflowId} does not replay: ${result.error.message}`);
  }
});

test('workers created in one process share one workflow bundle', async () => {
  // Bundling again in a third thread crashed the process (swc's native addon); the bundle is
  // built once per process, so this test's process would not live to compare them otherwise.
  const bundles = [await bundleWorkflows(), await bundleWorkflows(), await bundleWorkflows()];
  assert.ok(bundles.every((b) => b === bundles[0]));
});
