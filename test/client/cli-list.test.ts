/**
 * `perennial list` and `perennial status --all` as a user runs them (child processes), on the
 * real stack: two models, one promoted and monitoring, one whose first challenger waits for
 * approval. The fleet view comes from search attributes in one visibility query, which is
 * eventually consistent, so the test polls. It also checks what the attributes cost: a quiet
 * monitoring cycle upserts nothing.
 *
 * PERENNIAL_CAPTURE=v9 also writes both lifecycles' histories as replay fixtures
 * (test/replay/histories/v9-*.json: they carry the fleet-view-attributes patch marker).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { lifecycleWorkflowId } from '../../core/messages.ts';
import type { FleetRow } from '../../client/fleet.ts';
import { runCli } from '../helpers/cli.ts';
import { eventually, registerSeeded, startStack, testSpec } from '../helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startStack>>;
before(async () => {
  stack = await startStack();
});

const perennial = (...args: string[]) => runCli(stack, ...args);

/** The fleet as `perennial <args> --json` prints it; fails on a non-zero exit. */
async function fleet(...args: string[]): Promise<FleetRow[]> {
  const out = await perennial(...args, '--json');
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout) as FleetRow[];
}

/** Polls `perennial list --json` until `ready` accepts the rows of `models`. */
async function listedWhen(models: string[], ready: (rows: FleetRow[]) => boolean, what: string): Promise<FleetRow[]> {
  return eventually(
    what,
    async () => {
      const rows = (await fleet('list')).filter((r) => models.includes(r.model));
      if (rows.length === models.length && ready(rows)) return rows;
      throw new Error(`listed ${JSON.stringify(rows)}`);
    },
    300_000,
  );
}

test(
  'list and status --all show every model with its champion, stage, trigger, verdict and approvals',
  { timeout: 10 * 60_000 },
  async () => {
    const monitored = testSpec();
    const waiting = testSpec({ approval: { required: true, timeout: '1h', onTimeout: 'reject' } });
    await registerSeeded(stack, monitored);
    await registerSeeded(stack, waiting);

    // Listed at once, before either lifecycle has done anything (the client set the first values).
    const started = await listedWhen([monitored.name, waiting.name], () => true, 'both models listed');
    for (const row of started) assert.ok(['starting', 'retraining'].includes(row.stage), JSON.stringify(row));

    const byName = (rows: FleetRow[], name: string) => rows.find((r) => r.model === name)!;
    const rows = await listedWhen(
      [monitored.name, waiting.name],
      (rows) => byName(rows, monitored.name).lastVerdict === 'ok' && byName(rows, waiting.name).retrainStage === 'awaiting-approval',
      'one model promoted and monitored, the other awaiting approval',
    );
    const a = byName(rows, monitored.name);
    assert.deepEqual(
      {
        champion: a.champion,
        stage: a.stage,
        lastTrigger: a.lastTrigger,
        lastVerdict: a.lastVerdict,
        pendingApprovals: a.pendingApprovals,
      },
      { champion: '1', stage: 'monitoring', lastTrigger: 'initial', lastVerdict: 'ok', pendingApprovals: 0 },
    );
    assert.equal(a.workflowId, lifecycleWorkflowId(monitored.name));
    assert.ok(a.updatedAt && Date.parse(a.updatedAt) <= Date.now(), a.updatedAt);
    const b = byName(rows, waiting.name);
    assert.deepEqual(
      {
        champion: b.champion,
        stage: b.stage,
        retrainStage: b.retrainStage,
        lastTrigger: b.lastTrigger,
        pendingApprovals: b.pendingApprovals,
      },
      { champion: undefined, stage: 'retraining', retrainStage: 'awaiting-approval', lastTrigger: 'initial', pendingApprovals: 1 },
    );
    assert.equal(b.retrainWorkflowId, `${b.workflowId}/retrain/1`);

    // The table a person reads: one line each, no wider than 100 columns.
    const table = await perennial('list');
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    for (const line of lines) assert.ok(line.length <= 100, `${line.length} columns: ${line}`);
    assert.match(lines[0], /^model +champion +stage +last trigger +last verdict +approvals +updated$/);
    assert.match(lines.find((l) => l.startsWith(`${monitored.name} `)) ?? '', /^\S+ +v1 +monitoring +initial +ok +0 +\d+[smhd] ago$/);
    assert.match(lines.find((l) => l.startsWith(`${waiting.name} `)) ?? '', /^\S+ +- +awaiting-approval +initial +- +1 +\d+[smhd] ago$/);
    assert.match(lines.at(-1)!, /^\d+ models; \d+ awaiting approval/);

    // status --all is the same view.
    const all = (await fleet('status', '--all')).filter((r) => r.model === monitored.name || r.model === waiting.name);
    assert.deepEqual(
      all.map((r) => [r.model, r.champion, r.stage, r.pendingApprovals]),
      rows.map((r) => [r.model, r.champion, r.stage, r.pendingApprovals]),
    );
    const noModel = await perennial('status');
    assert.equal(noModel.code, 1);
    assert.match(noModel.stderr, /^perennial: name a model, or use --all/);

    // What it costs: quiet cycles (the verdict stays "ok") upsert nothing.
    const cycles = await eventually(
      'four monitoring cycles of the promoted model',
      async () => {
        const found = cycleCosts(await lifecycleEvents(monitored.name));
        return found.length >= 4 ? found : undefined;
      },
      120_000,
    );
    const quiet = cycles.slice(1);
    assert.deepEqual(
      quiet.map((c) => c.upserts),
      quiet.map(() => 0),
      JSON.stringify(cycles),
    );
    console.log(`events per monitoring cycle: ${cycles.map((c) => `${c.events} (${c.upserts} upserts)`).join(', ')}`);

    const set = process.env.PERENNIAL_CAPTURE;
    if (set) for (const model of [monitored.name, waiting.name]) await capture(set, model);
  },
);

async function lifecycleEvents(model: string) {
  const history = await stack.client.temporal.workflow.getHandle(lifecycleWorkflowId(model)).fetchHistory();
  return history.events ?? [];
}
type HistoryEvent = Awaited<ReturnType<typeof lifecycleEvents>>[number];

/**
 * Per monitoring cycle (from one cycle timer to the next: a quiet cycle skips monitorChampion, so
 * the timer is what every cycle has): its events, and its search-attribute upserts.
 */
function cycleCosts(events: HistoryEvent[]) {
  const starts = events.flatMap((e, i) => (e.timerStartedEventAttributes ? [i] : []));
  return starts.slice(1).map((end, k) => {
    const cycle = events.slice(starts[k], end);
    return {
      events: cycle.length,
      upserts: cycle.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes).length,
    };
  });
}

/** Writes the lifecycle's history as a replay fixture of `set` (see test/replay/capture.ts for the naming). */
async function capture(set: string, model: string) {
  const workflowId = lifecycleWorkflowId(model);
  const history = await stack.client.temporal.workflow.getHandle(workflowId).fetchHistory();
  const file = join(import.meta.dirname, '..', 'replay', 'histories', `${set}-${workflowId.replaceAll('/', '_')}.json`);
  writeFileSync(file, historyToJSON(history));
  console.log(`${workflowId}: ${history.events?.length} events -> ${file}`);
}
