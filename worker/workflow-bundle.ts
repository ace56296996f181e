/**
 * The workflow bundle, built with webpack in a short-lived thread at every worker start.
 *
 * Why a thread: webpack's working memory, freed by the garbage collector, stays in the process's
 * resident set; bundled in the main thread it left the idle worker ~80 MiB larger for good
 * (360 against 282 MiB measured after a GC), on a process whose budget is a fleet's lifecycles.
 * A thread's heap goes back to the system when the thread ends. The code is still bundled from
 * source at every start, as `workflowsPath` would, so no stale bundle can run.
 *
 * Once per process: every worker a process creates shares the bundle, because webpack compiles
 * TypeScript with swc's native addon, and a process whose threads load that addon a third time
 * crashes (a segmentation fault, seen with Node 20.20 and swc from @temporalio/worker 1.24).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Worker as Thread } from 'node:worker_threads';

const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
/** Evaluated once per worker and shared by every cached workflow (workflows/shared-modules.ts says why). */
const SHARED_WORKFLOW_MODULES = [fileURLToPath(new URL('../workflows/shared-modules.ts', import.meta.url))];

export interface WorkflowBundle {
  code: string;
}

let bundled: Promise<WorkflowBundle> | undefined;

/**
 * `PERENNIAL_WORKFLOW_BUNDLE` names a bundle this code built before (`writeWorkflowBundle`), to
 * start workers without bundling: an image can build it once, and `npm test` builds it once for
 * all its worker processes (about 5 s of CPU each otherwise). It must come from the same source.
 */
export function bundleWorkflows(): Promise<WorkflowBundle> {
  const prebuilt = process.env.PERENNIAL_WORKFLOW_BUNDLE?.trim();
  bundled ??= prebuilt ? readBundle(prebuilt) : bundleInThread();
  // A failed bundling is not kept: the next worker start tries again.
  bundled.catch(() => (bundled = undefined));
  return bundled;
}

/** Bundles the workflow code into `path`, for PERENNIAL_WORKFLOW_BUNDLE. */
export async function writeWorkflowBundle(path: string): Promise<void> {
  await writeFile(path, (await bundleInThread()).code);
}

async function readBundle(path: string): Promise<WorkflowBundle> {
  try {
    return { code: await readFile(path, 'utf8') };
  } catch (err) {
    throw new Error(`PERENNIAL_WORKFLOW_BUNDLE: cannot read the workflow bundle ${path}: ${(err as Error).message}`, { cause: err });
  }
}

function bundleInThread(): Promise<WorkflowBundle> {
  // Plain JavaScript: the thread needs no TypeScript loader, webpack compiles the workflow code.
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(${JSON.stringify(import.meta.resolve('@temporalio/worker'))})
      .then(({ bundleWorkflowCode }) => bundleWorkflowCode(workerData))
      .then(({ code }) => parentPort.postMessage(code));`;
  const thread = new Thread(source, {
    eval: true,
    execArgv: [],
    workerData: { workflowsPath: WORKFLOWS_PATH, preloadModules: SHARED_WORKFLOW_MODULES },
  });
  return new Promise((resolve, reject) => {
    thread.once('message', (code: string) => resolve({ code }));
    // A bundling failure (webpack's message) arrives as the thread's error.
    thread.once('error', reject);
    thread.once('exit', (code) => reject(new Error(`the workflow bundler thread exited with code ${code} before bundling`)));
  });
}
