/**
 * The fleet's worker in a process of its own (`worker/main.ts`, as a deployment runs it), on a
 * task queue of its own that the fleet's specs name: its memory and CPU are then the worker's
 * alone, apart from the model server and the client, which stay in the bench's process with
 * the stack (whose own worker, polling another queue, idles).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PROJECT_ROOT } from '../../config/paths.ts';
import type { LocalStack } from '../../stack/local.ts';
import { processStat } from '../../stack/processes.ts';

export interface FleetWorker {
  taskQueue: string;
  /** Resident memory now, in MiB (VmRSS). */
  rssMiB(): number;
  /** User plus system CPU of all its threads so far, in ms. */
  cpuMs(): number;
  stop(): Promise<void>;
}

export async function startFleetWorker(stack: LocalStack, taskQueue: string): Promise<FleetWorker> {
  const log = createWriteStream(join(stack.dataDir, `worker-${taskQueue}.log`));
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'worker', 'main.ts')], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: stack.temporal.address,
      TEMPORAL_NAMESPACE: stack.temporal.namespace,
      MLFLOW_TRACKING_URI: stack.mlflowUrl,
      PERENNIAL_DB: stack.dbPath,
      PERENNIAL_SERVING_URL: stack.servingUrl,
      PERENNIAL_ADMIN_TOKEN: stack.adminToken,
      PERENNIAL_DATA_DIR: stack.dataDir,
      PERENNIAL_TASK_QUEUE: taskQueue,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const tail: string[] = [];
  await new Promise<void>((resolve, reject) => {
    for (const stream of [child.stdout!, child.stderr!])
      createInterface({ input: stream }).on('line', (line) => {
        log.write(`${line}\n`);
        tail.push(line);
        if (tail.length > 40) tail.shift();
        if (line.includes('perennial worker polling')) resolve();
      });
    void exited.then((code) => reject(new Error(`worker/main.ts exited with ${code}:\n${tail.join('\n')}`)));
  });
  const pid = child.pid!;
  return {
    taskQueue,
    rssMiB: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024,
    cpuMs: () => processStat(pid)?.cpuMs ?? NaN,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      log.end();
    },
  };
}
