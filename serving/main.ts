/**
 * Model server entry point: `tsx serving/main.ts`, configured by environment variables
 * (PERENNIAL_DB, MLFLOW_TRACKING_URI, PERENNIAL_ADMIN_TOKEN, HOST, PORT). Run under
 * serving/replaceable.ts (a cluster worker), it shares that process's port with the instance
 * that replaces it.
 *
 * SIGTERM/SIGINT drain: stop accepting connections, finish the requests in flight (their
 * predictions and feedback are committed to the log before their responses go out), then exit.
 */
import { Server as NetServer } from 'node:net';
import { MlflowClient } from '../adapters/mlflow/client.ts';
import { defaults } from '../config/environment.ts';
import { mlflowModelLoader } from './loader.ts';
import { buildServer } from './server.ts';
import { describeStoreLocation, openStore } from '../adapters/store/index.ts';

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 8080);
if (process.env.PERENNIAL_ADMIN_TOKEN === undefined) {
  console.warn(
    `PERENNIAL_ADMIN_TOKEN is not set: the admin endpoints (deployments, API keys) accept the development token "${defaults.adminToken()}"; set it before anyone else can reach this server`,
  );
} else if (process.env.PERENNIAL_ADMIN_TOKEN === '') {
  console.warn(
    'PERENNIAL_ADMIN_TOKEN is empty: the admin endpoints (deployments, API keys) refuse every request with 401 until it is set; predict and feedback are unaffected',
  );
}

const store = await openStore(defaults.storeLocation(), { synchronous: defaults.dbSynchronous() });
const app = await buildServer({
  store,
  loadModel: mlflowModelLoader(new MlflowClient(defaults.mlflowUrl())),
  adminToken: defaults.adminToken(),
  logger: true,
  processMetrics: true,
});
/** Idle keep-alive connections left after this long of draining are closed. */
const IDLE_GRACE_MS = 1000;
let draining = false;
// A client reusing a keep-alive connection at the moment the server closes it sees the socket
// reset, and a POST is not retried. So while draining, every response tells its client to drop
// the connection (Connection: close), and only connections still idle after a grace are closed.
app.addHook('onSend', async (_request, reply) => {
  if (draining) reply.header('connection', 'close');
});

/** Stops accepting, lets every connection finish its request and close; resolves when none is left. */
async function drain(): Promise<void> {
  draining = true;
  // net's close, not http's: http's also closes idle keep-alive connections at once (the race above).
  const allClosed = new Promise<void>((resolve) => NetServer.prototype.close.call(app.server, () => resolve()));
  const sweep = setInterval(() => app.server.closeIdleConnections(), IDLE_GRACE_MS);
  await allClosed;
  clearInterval(sweep);
}

const url = await app.listen({ host, port });
console.log(
  `perennial model server ${process.pid} on ${url} (store ${describeStoreLocation(defaults.storeLocation())}, registry ${defaults.mlflowUrl()})`,
);

let stopping = false;
async function stop(signal: NodeJS.Signals): Promise<void> {
  // A second signal means "now": skip waiting for in-flight requests.
  if (stopping) process.exit(1);
  stopping = true;
  app.log.info(`${signal}: draining (no new connections; finishing requests in flight)`);
  const started = Date.now();
  await drain();
  await app.close(); // disposes predictors; no connection is left by now
  await store.close();
  app.log.info(`drained in ${Date.now() - started} ms; exiting`);
  process.exit(0);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop(signal));
