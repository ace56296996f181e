/**
 * `npm start -- --demo --auto-approve` as a user runs it: a real process tree (npm, tsx, node)
 * against this test's Temporal and MLflow servers, with its data in a temp folder. Once its demo
 * is serving traffic from the first champion, Ctrl-C (SIGINT to the process group, as a
 * terminal sends it) must stop it cleanly and leave no process behind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { PerennialClient } from '../../client/client.ts';
import { temporalConfig } from '../../config/environment.ts';
import { readSpecFile } from '../../client/spec-file.ts';
import { freePort } from '../../stack/services.ts';
import { PROJECT_ROOT } from '../../config/paths.ts';
import { mlflowUrl, onTeardown, tempDir, temporalAddress } from '../helpers/services.ts';

/** Processes of this user whose environment names `marker`: whatever `npm start` left running. */
function processesWith(marker: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'latin1').includes(marker);
      } catch {
        return false; // gone meanwhile, or not ours
      }
    })
    .map(Number);
}

test('npm start -- --demo runs the demo, and Ctrl-C stops it cleanly with nothing left behind', { timeout: 15 * 60_000 }, async () => {
  const dataDir = join(tempDir('perennial-start-'), 'data');
  const name = `weather-start-${randomUUID().slice(0, 8)}`;
  const specPath = join(tempDir(), 'weather.yaml');
  writeFileSync(specPath, stringify({ ...readSpecFile(join(PROJECT_ROOT, 'examples', 'weather.yaml')), name }));
  const taskQueue = `start-${randomUUID()}`;
  const address = await temporalAddress();
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: address,
    MLFLOW_TRACKING_URI: await mlflowUrl(),
    PERENNIAL_DATA_DIR: dataDir,
    PERENNIAL_SERVING_PORT: String(await freePort()),
    PERENNIAL_TASK_QUEUE: taskQueue,
  };
  // Its own process group, so the test can send Ctrl-C to the whole tree as a terminal does.
  const npm = spawn('npm', ['start', '--', '--demo', '--auto-approve', '--spec', specPath], {
    cwd: PROJECT_ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // 'close' comes once every process of the tree that holds its output has ended, not just npm.
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) =>
    npm.once('close', (code, signal) => ok({ code, signal })),
  );
  onTeardown(async () => {
    if (npm.exitCode === null && npm.signalCode === null) process.kill(-npm.pid!, 'SIGKILL');
    // The lifecycle it registered would otherwise wait on the shared server for a worker forever.
    const client = await PerennialClient.connect({ ...temporalConfig({}), address }, taskQueue);
    await client.stop(name).catch(() => undefined);
    await client.close();
  });
  let stdout = '';
  let stderr = '';
  npm.stdout.on('data', (chunk) => (stdout += chunk));
  npm.stderr.on('data', (chunk) => (stderr += chunk));

  // The milestone: the demo sends production traffic to the first champion, approved by itself.
  const deadline = Date.now() + 10 * 60_000;
  while (!/auto-approve: approved by demo-auto-approver[\s\S]*traffic: \d+ predictions, now Seattle .*; champion v1/.test(stdout)) {
    assert.ok(npm.exitCode === null, `npm start exited early (${npm.exitCode}):\n${stdout}\n${stderr}`);
    assert.ok(Date.now() < deadline, `no demo traffic to champion v1 within 10 minutes:\n${stdout}\n${stderr}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.match(stdout, new RegExp(`imported 731 labelled records \\(Seattle 2012-2013\\) for model ${name}`));
  assert.ok(processesWith(dataDir).length >= 1, 'the processes it started are found by their data folder');

  process.kill(-npm.pid!, 'SIGINT');
  const ended = await Promise.race([closed, sleep(120_000, undefined, { ref: false })]);
  assert.ok(ended, `2 minutes after Ctrl-C, processes ${processesWith(dataDir).join(', ')} still run:\n${stdout}\n${stderr}`);
  const { code, signal } = ended;
  assert.match(stdout, /perennial: stopping\.\.\./);
  // start.ts exits 130 after Ctrl-C; npm, like a shell, either passes that code on or ends by the
  // signal itself (npm 10 does). An error would exit 1.
  assert.ok(signal === 'SIGINT' || code === 130, `exit code ${code}, signal ${signal}\n${stdout}\n${stderr}`);
  assert.doesNotMatch(stderr, /^perennial: /m, 'no error from the shutdown');
  assert.deepEqual(processesWith(dataDir), [], 'no process left behind');
});
