/**
 * What a fleet pays for monitoring, on the real stack (Temporal, MLflow, the worker): a promoted
 * model without traffic runs quiet cycles — a local activity's marker, no monitorChampion — and a
 * policy of time alone still fires on one; a model whose first challenger awaits approval waits
 * without a timer. Events per cycle are counted in the lifecycle's real history.
 *
 * PERENNIAL_CAPTURE=v10 also writes both lifecycles' histories as replay fixtures
 * (test/replay/histories/v10-*.json: the quiet-monitoring-cycles, staggered-monitoring-cycles and
 * idle-without-timer patch markers).
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { lifecycleWorkflowId } from '../../core/messages.ts';
import { captureFixture } from '../replay/capture-fixture.ts';
import { eventually, registerSeeded, startStack, testSpec } from '../helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startStack>>;
before(async () => {
  stack = await startStack();
});

async function lifecycleEvents(model: string) {
  const history = await stack.client.temporal.workflow.getHandle(lifecycleWorkflowId(model)).fetchHistory();
  return history.events ?? [];
}
type HistoryEvent = Awaited<ReturnType<typeof lifecycleEvents>>[number];

const isMonitorActivity = (e: HistoryEvent) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'monitorChampion';
// The SDK records each local activity's result as a marker of this name.
const isLocalActivity = (e: HistoryEvent) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity';
const isRetrainStart = (e: HistoryEvent) =>
  e.startChildWorkflowExecutionInitiatedEventAttributes !== undefined && e.startChildWorkflowExecutionInitiatedEventAttributes !== null;

test(
  'quiet cycles skip the monitor activity and still fire a policy of time; an idle lifecycle runs no timer',
  { timeout: 10 * 60_000 },
  async () => {
    const monitored = testSpec();
    const waiting = testSpec({ approval: { required: true, timeout: '1h', onTimeout: 'reject' } });
    await registerSeeded(stack, monitored);
    await registerSeeded(stack, waiting);

    // Promoted, one measured cycle, then quiet ones: nothing is predicted in this test.
    const events = await eventually(
      'a measured cycle and four quiet ones',
      async () => {
        const found = await lifecycleEvents(monitored.name);
        const first = found.findIndex(isMonitorActivity);
        return first >= 0 && found.slice(first).filter(isLocalActivity).length >= 4 ? found : undefined;
      },
      300_000,
    );
    assert.equal(events.filter(isMonitorActivity).length, 1, 'only the first cycle of the champion ran monitorChampion');
    const checks = events.flatMap((e, i) => (isLocalActivity(e) ? [i] : []));
    const perCycle = checks.slice(1).map((end, k) => events.slice(checks[k], end));
    for (const cycle of perCycle) {
      assert.ok(!cycle.some((e) => e.activityTaskScheduledEventAttributes), 'a quiet cycle schedules no activity');
      assert.ok(cycle.length < 11, `a quiet cycle recorded ${cycle.length} events`);
    }
    console.log(`events per quiet cycle: ${perCycle.map((c) => c.length).join(', ')} (11 before)`);

    // A rule on the champion's age alone: it fires on a quiet cycle, with no monitorChampion.
    const ageRule = { name: 'old-champion', when: { metric: 'model_age_days', atLeast: 1 / 86_400 } };
    await stack.client.setPolicies(monitored.name, {
      policies: { rules: [ageRule] },
      changedBy: 'test',
      reason: 'a rule of time',
    });
    const status = await eventually(
      'the age rule to start a retrain',
      async () => {
        const s = await stack.client.status(monitored.name);
        return s.activeRetrain ? s : undefined;
      },
      120_000,
    );
    assert.match(status.activeRetrain!.trigger, /old-champion: model_age_days/);
    const fired = await lifecycleEvents(monitored.name);
    assert.equal(fired.filter(isMonitorActivity).length, 1, 'the rule fired on a quiet cycle');
    assert.equal(fired.filter(isRetrainStart).length, 2);

    // The other model waits for its reviewer: no timer ever, in all this time.
    const idle = await lifecycleEvents(waiting.name);
    assert.equal(idle.filter(isRetrainStart).length, 1);
    assert.equal(idle.filter((e) => e.timerStartedEventAttributes).length, 0, 'a lifecycle with nothing to monitor runs no timer');
    console.log(`idle lifecycle: ${idle.length} events in total`);

    for (const model of [monitored.name, waiting.name]) await captureFixture(stack.client.temporal, lifecycleWorkflowId(model));
  },
);
