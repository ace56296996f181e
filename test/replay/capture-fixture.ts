/**
 * For tests that record replay fixtures: with PERENNIAL_CAPTURE=<set> (e.g. v12), writes the
 * workflow's history as histories/<set>-<workflow id with / as _>.json (fixtureFile, which
 * capture.ts names its files by too); without it, does nothing.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';

/** Where fixture set `set` keeps the history of `workflowId`: its id matters, child ids derive from it. */
export function fixtureFile(set: string, workflowId: string): string {
  return join(import.meta.dirname, 'histories', `${set}-${workflowId.replaceAll('/', '_')}.json`);
}

export async function captureFixture(client: Client, workflowId: string): Promise<void> {
  const set = process.env.PERENNIAL_CAPTURE;
  if (!set) return;
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const file = fixtureFile(set, workflowId);
  writeFileSync(file, historyToJSON(history));
  console.log(`${workflowId}: ${history.events?.length} events -> ${file}`);
}
