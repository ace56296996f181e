/**
 * The fleet view (`perennial list`, `perennial status --all`): every managed model from ONE
 * visibility query over the search attributes of the running lifecycles and their retrains,
 * never a query per workflow, so it costs the same for ten models as for a thousand (a page per
 * thousand). Visibility is eventually consistent: a change shows up a moment after it happened.
 */
import type { Client } from '@temporalio/client';
import type { TypedSearchAttributes } from '@temporalio/common';
// Not re-exported by the package's index; the client's own listing decodes with it too.
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes.js';
import { tsToMs } from '@temporalio/common/lib/time.js';
import { ChampionVersionKey, LastVerdictKey, ModelNameKey, StageKey, StatusChangedAtKey, TriggerReasonKey } from '../core/messages.ts';

export interface FleetRow {
  model: string;
  /** The lifecycle's workflow id, `model/<name>`. */
  workflowId: string;
  /** The lifecycle's stage (core/lifecycle/fleet-view.ts); '' for a lifecycle started before the fleet view. */
  stage: string;
  /** The running retrain's stage (snapshot, sweep, awaiting-approval, canary ...), when one runs. */
  retrainStage?: string;
  retrainWorkflowId?: string;
  champion?: string;
  lastTrigger?: string;
  lastVerdict?: string;
  /** Retrains of this model waiting for a person's review. */
  pendingApprovals: number;
  /** When the lifecycle's attributes last changed (ISO). */
  updatedAt?: string;
}

/** Lifecycles and retrains that run now; a retrain's ModelName ties it to its lifecycle. */
export const FLEET_QUERY = "ExecutionStatus = 'Running' AND WorkflowType IN ('modelLifecycle', 'retrain')";

/** A running lifecycle or retrain as the fleet view needs it: its search attributes, nothing else. */
interface Listed {
  workflowId: string;
  type: string;
  startMs: number;
  attrs: TypedSearchAttributes;
}

/**
 * The raw listing, page by page. The SDK's own list() also decodes every memo, and a retrain's
 * memo (its trigger) is ciphertext under the payload codec: one such workflow from a process with
 * another key, or none, would stop the whole fleet view. Search attributes are never encrypted.
 */
async function* listRunning(temporal: Client): AsyncGenerator<Listed> {
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await temporal.workflowService.listWorkflowExecutions({
      namespace: temporal.options.namespace,
      query: FLEET_QUERY,
      nextPageToken,
    });
    for (const e of page.executions ?? []) {
      yield {
        workflowId: e.execution?.workflowId ?? '',
        type: e.type?.name ?? '',
        startMs: tsToMs(e.startTime),
        attrs: decodeTypedSearchAttributes(e.searchAttributes?.indexedFields),
      };
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
}

export async function listFleet(temporal: Client): Promise<FleetRow[]> {
  const lifecycles: Listed[] = [];
  const retrains = new Map<string, Listed[]>();
  for await (const wf of listRunning(temporal)) {
    const model = wf.attrs.get(ModelNameKey);
    if (!model) continue;
    if (wf.type === 'modelLifecycle') lifecycles.push(wf);
    else retrains.set(model, [...(retrains.get(model) ?? []), wf]);
  }
  return lifecycles
    .map((wf) => fleetRow(wf, retrains.get(wf.attrs.get(ModelNameKey)!) ?? []))
    .sort((a, b) => a.model.localeCompare(b.model));
}

function fleetRow(lifecycle: Listed, retrains: Listed[]): FleetRow {
  const { attrs } = lifecycle;
  // A lifecycle runs one retrain at a time; the newest is the one it watches.
  const retrain = retrains.sort((a, b) => b.startMs - a.startMs)[0];
  const stageOf = (wf: Listed) => wf.attrs.get(StageKey);
  return {
    model: attrs.get(ModelNameKey)!,
    workflowId: lifecycle.workflowId,
    stage: attrs.get(StageKey) ?? '',
    retrainStage: retrain && stageOf(retrain),
    retrainWorkflowId: retrain?.workflowId,
    champion: attrs.get(ChampionVersionKey),
    lastTrigger: attrs.get(TriggerReasonKey),
    lastVerdict: attrs.get(LastVerdictKey),
    pendingApprovals: retrains.filter((wf) => stageOf(wf) === 'awaiting-approval').length,
    updatedAt: attrs.get(StatusChangedAtKey)?.toISOString(),
  };
}

// ---- the table ------------------------------------------------------------------------------

const HEAD = ['model', 'champion', 'stage', 'last trigger', 'last verdict', 'approvals', 'updated'];
/** Columns that give up width when the table is too wide: model, stage, last trigger, last verdict. */
const SHRINKABLE = [0, 2, 3, 4];
const MIN_WIDTH = 8;
const GAP = '  ';

/** One line per model, at most `width` columns wide (long cells end in …), and a tally. */
export function fleetTable(rows: FleetRow[], width = 100, now = new Date()): string {
  if (rows.length === 0) return 'no managed model is running (perennial register <spec> starts one)';
  const cells = [
    HEAD,
    ...rows.map((r) => [
      r.model,
      r.champion ? `v${r.champion}` : '-',
      // While a retrain runs, how far it got says more than "retraining".
      r.retrainStage ?? (r.stage || '-'),
      r.lastTrigger || '-',
      r.lastVerdict || '-',
      String(r.pendingApprovals),
      r.updatedAt ? age(new Date(r.updatedAt), now) : '-',
    ]),
  ];
  const widths = HEAD.map((_, c) => Math.max(...cells.map((row) => row[c].length)));
  const total = () => widths.reduce((a, b) => a + b, 0) + GAP.length * (widths.length - 1);
  while (total() > width) {
    const widest = SHRINKABLE.filter((c) => widths[c] > MIN_WIDTH).sort((a, b) => widths[b] - widths[a])[0];
    if (widest === undefined) break;
    widths[widest] -= 1;
  }
  const lines = cells.map((row) =>
    row
      .map((cell, c) => fit(cell, widths[c]))
      .join(GAP)
      .trimEnd(),
  );
  const waiting = rows.filter((r) => r.pendingApprovals > 0).length;
  return [...lines, '', `${rows.length} models; ${waiting} awaiting approval (perennial approve <model>)`].join('\n');
}

function fit(cell: string, width: number): string {
  return cell.length > width ? `${cell.slice(0, width - 1)}…` : cell.padEnd(width);
}

/** "12s ago", "5m ago", "3h ago", "2d ago". */
function age(at: Date, now: Date): string {
  const s = Math.max(0, Math.round((now.getTime() - at.getTime()) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}
