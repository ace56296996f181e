/**
 * Determinism guard: histories recorded by real runs (the demo: a lifecycle that trained,
 * monitored, detected drift and promoted; its retrains) must replay on today's workflow code.
 * A change that breaks them needs `patched()` and a new fixture (see capture.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../worker/worker.ts';

const dir = join(import.meta.dirname, 'histories');

test('recorded histories replay on the current workflow code', async () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  if (files.length === 0) throw new Error(`no replay fixtures in ${dir}`);
  // File names are `<fixture set>-<workflow id with / as _>.json` (see capture.ts); the real id
  // matters because child workflow ids derive from it.
  const histories = files.map((file) => ({
    workflowId: file.replace(/^[^-]+-/, '').replace(/\.json$/, '').replaceAll('_', '/'),
    history: historyFromJSON(JSON.parse(readFileSync(join(dir, file), 'utf8'))),
  }));
  const results = Worker.runReplayHistories({ workflowsPath: WORKFLOWS_PATH }, histories);
  for await (const result of results) {
    if (result.error) throw new Error(`${result.workflowId} does not replay: ${result.error.message}`);
  }
});
