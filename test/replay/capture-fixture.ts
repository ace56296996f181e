/**
 * For tests that record replay fixtures: with PERENNIAL_CAPTURE=<set> (e.g. v12), writes the
 * workflow's history as histories/<set>-<workflow id with / as _>.json, the naming of capture.ts;
 * without it, does nothing.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';

export async function captureFixture(client: Client, workflowId: string): Promise<void> {
  const set = process.env.PERENNIAL_CAPTURE;
  if (!set) return;
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const file = join(import.meta.dirname, 'histories', `${set}-${workflowId.replaceAll('/', '_')}.json`);
  writeFileSync(file, historyToJSON(history));
  console.log(`${workflowId}: ${history.events?.length} events -> ${file}`);
}
