/** `perennial training-limit`'s view of the namespace's training permits. */
import type { PermitEntry, TrainingPermitsState } from '../core/training-permits.ts';

export function trainingPermitsText(state: TrainingPermitsState | undefined): string {
  if (!state) return 'training limit: none (never set): sweeps train as soon as a worker has a training slot';
  const line = (e: PermitEntry) => `  ${e.model}  ${e.sweepWorkflowId}  since ${e.since.slice(0, 19)}Z`;
  return [
    `training limit: ${state.limit === null ? 'none (unlimited)' : `${state.limit} sweep${state.limit === 1 ? '' : 's'} at once in this namespace`}`,
    `training (${state.holders.length}):`,
    ...state.holders.map(line),
    `waiting, first in line first (${state.queue.length}):`,
    ...state.queue.map(line),
  ].join('\n');
}
