/**
 * The model server as a process (serving/main.ts): what its admin-token warning says is what it
 * does, and SIGTERM drains and exits 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort, PROJECT_ROOT } from '../../stack/services.ts';
import { scrape } from '../helpers/prometheus.ts';
import { tempDir } from '../helpers/services.ts';

/** Starts serving/main.ts on a fresh log; resolves once it listens, with everything it printed. */
async function startMain(adminToken: string | undefined) {
  const [port, noRegistry] = [await freePort(), await freePort()];
  const env: Record<string, string | undefined> = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    PERENNIAL_DB: join(tempDir(), 'perennial.sqlite'),
    // Nothing listens there: a deployment that gets past the token fails fast at the registry.
    MLFLOW_TRACKING_URI: `http://127.0.0.1:${noRegistry}`,
    PERENNIAL_ADMIN_TOKEN: adminToken,
  };
  if (adminToken === undefined) delete env.PERENNIAL_ADMIN_TOKEN;
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'serving', 'main.ts')], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const listening = new Promise<void>((resolve, reject) => {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        output.push(line);
        if (line.includes('perennial model server')) resolve();
      });
    }
    child.once('exit', (code) => reject(new Error(`serving/main.ts exited with ${code}:\n${output.join('\n')}`)));
  });
  await listening;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { base: `http://127.0.0.1:${port}`, output, stop: () => (child.kill('SIGTERM'), exited) };
}

const deploy = (base: string, authorization: string) =>
  fetch(`${base}/admin/models/weather/deployment`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify({ champion: { version: '1' }, reason: 'test' }),
  });

test('an empty PERENNIAL_ADMIN_TOKEN: the warning says admin requests are refused, and they are; SIGTERM drains and exits 0', async () => {
  const server = await startMain('');
  assert.ok(
    server.output.some((l) =>
      l.includes('PERENNIAL_ADMIN_TOKEN is empty: the admin endpoints (deployments, API keys) refuse every request'),
    ),
    server.output.join('\n'),
  );
  for (const authorization of ['Bearer ', 'Bearer perennial-dev-token', ''])
    assert.equal((await deploy(server.base, authorization)).status, 401, authorization);
  assert.equal((await fetch(`${server.base}/healthz`)).status, 200);
  assert.equal(await server.stop(), 0);
  assert.ok(
    server.output.some((l) => l.includes('SIGTERM: draining')) && server.output.some((l) => l.includes('drained in')),
    server.output.join('\n'),
  );
});

test('PERENNIAL_ADMIN_TOKEN unset: the warning names the development token, which the admin endpoints accept', async () => {
  const server = await startMain(undefined);
  try {
    assert.ok(
      server.output.some((l) => l.includes('accept the development token "perennial-dev-token"')),
      server.output.join('\n'),
    );
    // Accepted: it gets past the token to the deployment (version 1 is not in any registry here).
    assert.notEqual((await deploy(server.base, 'Bearer perennial-dev-token')).status, 401);
    assert.equal((await deploy(server.base, 'Bearer guess')).status, 401);
  } finally {
    await server.stop();
  }
});

test('/metrics of the process: open to scrapers, with process and Node.js metrics, and no admin token in it', async () => {
  const server = await startMain('main-metrics-secret-token');
  try {
    const text = await (await fetch(`${server.base}/metrics`)).text();
    assert.ok(!text.includes('main-metrics-secret-token'));
    const families = await scrape(`${server.base}/metrics`);
    for (const name of ['process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'perennial_request_total'])
      assert.ok(families.has(name), `${name} is exposed`);
  } finally {
    await server.stop();
  }
});
