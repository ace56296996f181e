/**
 * The online training mode's decisions. PURE.
 *
 * A model with `training.mode: online` follows its stream between full retrains: once a batch of
 * new labels is in (training.online.batchRows) and no retraining policy fired, the lifecycle starts
 * an online update, a retrain whose sweep is one warm-start trial of the champion on the labels
 * since the champion's training data, for a few epochs (trees, for a gbdt). Its challenger then goes
 * through the same evaluation, gates, approval and live test as any other. Full retrains still come
 * from the policies (drift, accuracy, ...: the champion's own lineage is no longer enough), and from
 * the updates themselves: after `fullRetrainAfter` promoted updates (the configuration was found on
 * older data), or `maxRejected` in a row that failed to beat the champion (updates stopped helping).
 */
import type { Trigger } from './lifecycle/state.ts';
import type { OnlineSpec } from './online-spec.ts';
import type { ModelSpec } from './spec.ts';
import type { SweepSpec } from './sweep-spec.ts';

/** The rule of an online update's trigger (a retrain whose rules are only this is an update). */
export const ONLINE_UPDATE_RULE = 'online';
/** The rule of a full retrain that the online updates asked for. */
export const ONLINE_LIMIT_RULE = 'online-limit';

/** What the lifecycle counts of its updates since the last full retrain. */
export interface OnlineState {
  /** Updates promoted since the last full retrain. */
  promoted: number;
  /** Updates in a row that did not become champion. */
  rejectedInARow: number;
}

export const INITIAL_ONLINE_STATE: OnlineState = { promoted: 0, rejectedInARow: 0 };

/** Older specs (and the workflows carrying them) have no mode: they retrain. */
export const isOnlineMode = (spec: ModelSpec): boolean => spec.training.mode === 'online';

/** The spec's online settings (the schema fills them in for `mode: online`). */
export function onlineSettings(spec: ModelSpec): OnlineSpec {
  if (!spec.training.online) throw new Error(`${spec.name} is not in the online training mode`);
  return spec.training.online;
}

/** An online update: a trigger of the online rule alone (coalesced with any other, it is a full retrain). */
export const isOnlineUpdate = (trigger: Pick<Trigger, 'rules'>): boolean =>
  trigger.rules.length > 0 && trigger.rules.every((r) => r === ONLINE_UPDATE_RULE);

/**
 * After a monitoring cycle in which no policy fired, once a batch of new labels is in: an online
 * update, or a full retrain when the updates ran their course. Nothing either while a
 * retrain runs or waits (`busy`): the labels it reads would be counted twice.
 */
export function onlineTrigger(
  settings: OnlineSpec,
  state: OnlineState | undefined,
  cycle: { newLabels: number; championVersion: string; busy: boolean },
): Trigger | undefined {
  if (cycle.busy || cycle.newLabels < settings.batchRows) return undefined;
  const { promoted, rejectedInARow } = state ?? INITIAL_ONLINE_STATE;
  if (promoted >= settings.fullRetrainAfter)
    return {
      reason: `online: ${promoted} updates promoted since the last full retrain (fullRetrainAfter ${settings.fullRetrainAfter}): a full retrain searches afresh`,
      rules: [ONLINE_LIMIT_RULE],
    };
  if (rejectedInARow >= settings.maxRejected)
    return {
      reason: `online: ${rejectedInARow} updates in a row did not beat the champion (maxRejected ${settings.maxRejected}): a full retrain instead`,
      rules: [ONLINE_LIMIT_RULE],
    };
  return {
    reason: `online update of v${cycle.championVersion}: ${cycle.newLabels} new labels (batchRows ${settings.batchRows})`,
    rules: [ONLINE_UPDATE_RULE],
  };
}

/**
 * The counts after a retrain or update finished with `outcome` ('failed' for an update that threw:
 * updates are not retried; a full retrain that failed is, and counts when it finishes). A full retrain starts the count afresh whatever its verdict: were a
 * rejected one to leave the counts, the next cycle would ask for another at once.
 */
export function afterOnlineStep(state: OnlineState | undefined, trigger: Pick<Trigger, 'rules'>, outcome: string): OnlineState {
  if (!isOnlineUpdate(trigger)) return INITIAL_ONLINE_STATE;
  const { promoted, rejectedInARow } = state ?? INITIAL_ONLINE_STATE;
  return outcome === 'promoted' ? { promoted: promoted + 1, rejectedInARow: 0 } : { promoted, rejectedInARow: rejectedInARow + 1 };
}

/**
 * The spec an online update trains with: the labels since the champion's training data, and a
 * sweep of one warm-start trial (the champion's configuration, its learning rate or the update's)
 * for `epochs` epochs, without early stopping or earlier sweeps' history.
 */
export function onlineUpdateSpec(spec: ModelSpec): ModelSpec {
  const { sweep } = spec.training;
  const online = onlineSettings(spec);
  const update: SweepSpec = {
    ...sweep,
    families: { warmStart: online.learningRate ? { learningRate: { type: 'categorical', values: [online.learningRate] } } : {} },
    sampler: 'random',
    budget: { ...sweep.budget, maxTrials: 1, maxEpochsPerTrial: online.epochs },
    earlyStopping: { kind: 'none' },
    parallelism: 1,
    history: undefined,
  };
  return { ...spec, training: { ...spec.training, window: { kind: 'sinceChampion' }, sweep: update } };
}
