/** Who holds a port and who a process is, read from the real system (/proc on Linux). */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { assertPortFree, isAlive, portFree, portHolder, PortInUseError, processCommand, processGroup } from '../../stack/processes.ts';

test('a listening port is not free and is held by the process listening on it; once closed it is free again', async () => {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  assert.equal(await portFree(port), false);
  const holder = portHolder(port);
  assert.equal(holder?.pid, process.pid);
  assert.match(holder!.command, /node/);
  await assert.rejects(assertPortFree(port, 'test service'), (err: Error) => {
    assert.ok(err instanceof PortInUseError);
    assert.equal(
      err.message,
      `port ${port}, needed by the test service, is already in use by pid ${process.pid} (${holder!.command}); stop it, or choose another port`,
    );
    return true;
  });
  await new Promise((ok) => server.close(ok));
  assert.equal(await portFree(port), true);
  assert.equal(portHolder(port), undefined);
  await assertPortFree(port, 'test service');
});

test('a holder this user cannot see is named as such, not guessed', () => {
  assert.match(
    new PortInUseError(5000, 'MLflow server', undefined).message,
    /^port 5000, needed by the MLflow server, is already in use by a process this user cannot see/,
  );
});

test('a detached child leads its own process group; once reaped it is not alive', async () => {
  const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
  assert.ok(isAlive(child.pid!));
  assert.equal(processGroup(child.pid!), child.pid);
  assert.equal(processCommand(child.pid!), 'sleep 30');
  const gone = new Promise((ok) => child.once('exit', ok));
  child.kill('SIGKILL');
  await gone;
  assert.equal(isAlive(child.pid!), false);
  assert.equal(processCommand(child.pid!), undefined);
});
