/**
 * `perennial status <model>` for people: a few aligned sections (the model, its retraining
 * policies, its recent decisions) in the borderless style of `perennial list`. `--json` prints
 * the status query's answer instead, for programs.
 */
import Table from 'cli-table3';
import { compileRules } from '../core/policy.ts';
import type { LiveTestStatus } from '../core/live-test.ts';
import type { Decision, LifecycleStatus } from '../core/messages.ts';

/** The lifecycle's status, its running retrain told its own stage (and live test) by the retrain. */
export type ModelStatus = LifecycleStatus & { activeRetrain?: { liveTest?: LiveTestStatus } };

/** Decisions shown; `--json` has the lifecycle's whole recent history. */
const RECENT_DECISIONS = 8;
const GAP = '  ';
/** Longer reasons (a policy change records the whole new policies) are cut before wrapping. */
const MAX_REASONS = 300;

export function statusText(status: ModelStatus, width = 100): string {
  return [
    table(summaryRows(status)),
    '',
    'policies',
    indent(policiesText(status)),
    '',
    `recent decisions (newest last; --json for all ${status.history.length})`,
    indent(decisionsText(status.history.slice(-RECENT_DECISIONS), width - GAP.length)),
  ].join('\n');
}

/** As the fleet view names a lifecycle's stage (core/lifecycle/fleet-view.ts lifecycleStage). */
export function lifecycleStageOf(status: LifecycleStatus): string {
  if (status.activeRetrain) return 'retraining';
  if (status.retryAt) return 'retry-wait';
  if (status.paused) return 'paused';
  if (!status.championVersion) return 'no-champion';
  return 'monitoring';
}

function summaryRows(s: ModelStatus): string[][] {
  const active = s.activeRetrain;
  const earlier = s.previousChampions.length ? ` (earlier: ${s.previousChampions.map((v) => `v${v}`).join(', ')})` : '';
  return [
    ['model', s.model],
    ['champion', s.championVersion ? `v${s.championVersion}${earlier}` : 'none yet'],
    ['stage', `${lifecycleStageOf(s)}${s.paused && active ? ' (paused)' : ''}${s.monitoringNow ? ', monitoring cycle running' : ''}`],
    ...(active
      ? [
          ['retrain', `#${active.workflowId.slice(active.workflowId.lastIndexOf('/') + 1)} at ${active.stage} (${active.workflowId})`],
          ['trigger', active.trigger],
        ]
      : []),
    ...(active?.liveTest ? [['live test', `${active.liveTest.test}: ${active.liveTest.line}`]] : []),
    ...(s.pendingTrigger ? [['next', `${s.pendingTrigger} (starts when no retrain runs)`]] : []),
    ...(s.retryAt ? [['retry', `at ${s.retryAt}`]] : []),
    ['retrains', String(s.retrainCount)],
    ...(s.online
      ? [['online updates', `${s.online.promoted} promoted since the last full retrain, ${s.online.rejectedInARow} rejected in a row`]]
      : []),
  ];
}

function policiesText(s: LifecycleStatus): string {
  const rules = compileRules(s.policies);
  const lines = rules.length
    ? table([
        ['rule', 'fires after', 'breaches now'],
        ...rules.map((r) => [
          r.name,
          r.hardFloor ? 'first breach (hard floor)' : `${r.breaches} of ${r.within ?? r.breaches} cycles`,
          String(s.breaches[r.name] ?? 0),
        ]),
      ])
    : 'no rules: only the schedule and people start retrains';
  const cooldown = s.cooldownUntil && Date.parse(s.cooldownUntil) > Date.now() ? `, until ${s.cooldownUntil}` : '';
  return [lines, `cooldown ${s.policies.cooldown}${cooldown}`, ...s.policyNotes.map((n) => `note: ${n}`)].join('\n');
}

function decisionsText(decisions: Decision[], width: number): string {
  if (decisions.length === 0) return 'none yet';
  const at = 19;
  const what = Math.max(20, Math.min(45, Math.floor((width - at) * 0.4)));
  const why = Math.max(20, width - at - what - 2 * GAP.length);
  return table(
    [['at', 'what', 'why'], ...decisions.map((d) => [d.at.slice(0, 19).replace('T', ' '), d.what, cut(d.reasons.join('; '), MAX_REASONS)])],
    [at, what, why],
  );
}

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
const indent = (text: string) => text.replace(/^/gm, GAP);

const NO_BORDERS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: GAP,
};

/** Aligned columns, two spaces apart, no borders or colours (as `perennial list`); wrapped to `widths` when given. */
function table(rows: string[][], widths?: number[]): string {
  const t = new Table({
    chars: NO_BORDERS,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    ...(widths && { colWidths: widths, wordWrap: true }),
  });
  t.push(...rows);
  return t
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}
