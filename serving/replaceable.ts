/**
 * The model server as a replaceable instance: `tsx serving/replaceable.ts` (same environment as
 * serving/main.ts) holds the port and runs the model server in a worker process (node:cluster).
 * `kill -HUP <pid>` replaces it with zero downtime: a new instance starts and listens on the same
 * port while the old one serves, then the old one gets SIGTERM and drains (finishes its requests
 * in flight and exits). Use it to deploy new code or restart the server under load; SIGTERM or
 * SIGINT here drains the current instance and exits.
 *
 * Why not two independent processes with SO_REUSEPORT: Node offers `reusePort` only from 22.12
 * (Perennial supports 20), and on Linux a socket closed under SO_REUSEPORT resets the connections
 * waiting in its accept queue (unless net.ipv4.tcp_migrate_req=1). Here the port is one socket
 * that outlives every instance, so no connection is ever refused or reset by a replacement.
 */
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';

cluster.setupPrimary({ exec: fileURLToPath(new URL('./main.ts', import.meta.url)) });

let current: Worker | undefined;
let replacing = false;
let stopping = false;

/** Starts an instance and resolves once it listens (it has restored its deployments by then). */
function startInstance(): Promise<Worker> {
  const worker = cluster.fork();
  return new Promise((resolve, reject) => {
    worker.once('listening', () => resolve(worker));
    worker.once('exit', (code, signal) =>
      reject(new Error(`model server ${worker.process.pid} exited before listening (${signal ?? `code ${code}`})`)),
    );
  });
}

async function replace(): Promise<void> {
  if (replacing || stopping) return;
  replacing = true;
  try {
    const next = await startInstance();
    const old = current;
    current = next;
    watch(next);
    console.log(`model server ${next.process.pid} serving; draining ${old?.process.pid ?? 'none'}`);
    old?.process.kill('SIGTERM');
  } catch (err) {
    // The old instance keeps serving: a failed replacement must not take the port down.
    console.error(`replacement failed, ${current?.process.pid} keeps serving: ${(err as Error).message}`);
  } finally {
    replacing = false;
  }
}

/** The current instance dying on its own (not replaced) is restarted; nothing else holds the port. */
function watch(worker: Worker): void {
  worker.on('exit', (code, signal) => {
    if (worker !== current || stopping) return;
    console.error(`model server ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting another`);
    current = undefined;
    void replace();
  });
}

process.on('SIGHUP', () => void replace());
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    if (!current) process.exit(0);
    current.once('exit', () => process.exit(0));
    current.process.kill('SIGTERM');
  });
}

current = await startInstance();
watch(current);
console.log(`replaceable model server ${process.pid}: instance ${current.process.pid} serving; kill -HUP ${process.pid} to replace it`);
