/**
 * Saves the histories of workflows as replay fixtures, with the `temporal` CLI's JSON:
 *   TEMPORAL_ADDRESS=127.0.0.1:7233 tsx test/replay/capture.ts model/weather model/weather/retrain/2
 * Capture new fixtures after a workflow change that is guarded by a patch, and keep the old
 * ones: they prove that histories recorded before the change still replay.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporalConfig } from '../../client/config.ts';
import { VENV_BIN } from '../../stack/services.ts';

const { address, namespace } = temporalConfig();
for (const workflowId of process.argv.slice(2)) {
  const json = execFileSync(join(VENV_BIN, 'temporal'), ['workflow', 'show', '--address', address, '--namespace', namespace, '-w', workflowId, '-o', 'json'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const file = join(import.meta.dirname, 'histories', `${workflowId.replaceAll('/', '_')}.json`);
  writeFileSync(file, json);
  console.log(`${workflowId}: ${(JSON.parse(json) as { events: unknown[] }).events.length} events -> ${file}`);
}
