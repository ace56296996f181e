/**
 * Saves the histories of workflows as replay fixtures, with the `temporal` CLI's JSON:
 *   TEMPORAL_ADDRESS=127.0.0.1:7233 tsx test/replay/capture.ts v3 model/weather model/weather/retrain/2
 * writes histories/v3-model_weather.json and so on (the fixture set, then the workflow id with
 * `/` as `_`). Capture a new set after a workflow change that is guarded by a patch, and keep
 * the old ones: they prove that histories recorded before the change still replay.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporalConfig } from '../../config/environment.ts';
import { VENV_BIN } from '../../stack/services.ts';
import { fixtureFile } from './capture-fixture.ts';

const { address, namespace } = temporalConfig();
const [set, ...workflowIds] = process.argv.slice(2);
if (!set || /[-_/]/.test(set) || workflowIds.length === 0) throw new Error('usage: capture.ts <fixture set, e.g. v3> <workflow id>...');
for (const workflowId of workflowIds) {
  const json = execFileSync(
    join(VENV_BIN, 'temporal'),
    ['workflow', 'show', '--address', address, '--namespace', namespace, '-w', workflowId, '-o', 'json'],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const file = fixtureFile(set, workflowId);
  writeFileSync(file, json);
  console.log(`${workflowId}: ${(JSON.parse(json) as { events: unknown[] }).events.length} events -> ${file}`);
}
