/**
 * The MLflow server the stack starts runs without MLflow's GenAI job runners (stack/services.ts
 * turns job execution off): left on, they are 8 more processes and ~1.8 GiB on every start.
 * Counted on the real server of this test run, by its process group.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { portHolder, processCommand, processGroup } from '../../stack/processes.ts';
import { mlflowUrl } from '../helpers/services.ts';

test('the MLflow server starts no job runners', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
  const server = portHolder(Number(new URL(await mlflowUrl()).port));
  assert.ok(server, 'the MLflow server holds its port');
  const group = processGroup(server.pid);
  const members = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && processGroup(Number(entry)) === group)
    .map((pid) => processCommand(Number(pid)) ?? '');
  assert.ok(
    members.some((command) => /mlflow.*server/.test(command)),
    `the group holds the server: ${members.join('\n')}`,
  );
  assert.deepEqual(
    members.filter((command) => command.includes('huey')),
    [],
  );
});
