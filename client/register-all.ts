/**
 * `perennial register <folder>`: registers specs that were all validated first (spec-folder.ts),
 * one line per model as it goes. A model whose lifecycle already runs takes the spec as an
 * update, and what changed is reported (not an error); a registration Temporal or the lifecycle
 * refuses is named and the others still go ahead.
 */
import type { PerennialClient } from './client.ts';
import type { SpecSource } from './spec-folder.ts';

export interface RegisterAllResult {
  started: string[];
  running: string[];
  failed: { model: string; error: string }[];
}

export async function registerAll(
  client: PerennialClient,
  sources: SpecSource[],
  report: (line: string) => void,
): Promise<RegisterAllResult> {
  const result: RegisterAllResult = { started: [], running: [], failed: [] };
  for (const { path, spec } of sources) {
    try {
      const { workflowId, started, change } = await client.register(spec);
      const queue = spec.taskQueue ? ` on task queue ${spec.taskQueue}` : '';
      if (started) {
        result.started.push(spec.name);
        report(`model ${spec.name}: lifecycle workflow ${workflowId} is running${queue}`);
      } else {
        result.running.push(spec.name);
        report(`model ${spec.name}: already running (${workflowId}): ${change}`);
      }
    } catch (err) {
      result.failed.push({ model: spec.name, error: (err as Error).message });
      report(`model ${spec.name}: FAILED (${path}): ${(err as Error).message}`);
    }
  }
  return result;
}

/** "3 models: 2 started, 1 already running, 0 failed", failures named. */
export function registerSummary(result: RegisterAllResult): string {
  const total = result.started.length + result.running.length + result.failed.length;
  const failed = result.failed.length ? `${result.failed.length} failed: ${result.failed.map((f) => f.model).join(', ')}` : '0 failed';
  return `${total} models: ${result.started.length} started, ${result.running.length} already running, ${failed}`;
}
