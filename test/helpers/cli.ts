/** The `perennial` command run as a user runs it: a child process, against a test's stack. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../config/paths.ts';
import { mlflowUrl, temporalAddress } from './services.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `perennial <args>` against the test's Temporal server (also when this file started its
 * own, on a free port), task queue and SQLite log; never throws on a non-zero exit.
 */
export async function runCli(stack: { client: { taskQueue: string }; dataDir: string }, ...args: string[]): Promise<CliResult> {
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: await temporalAddress(),
    MLFLOW_TRACKING_URI: await mlflowUrl(),
    PERENNIAL_TASK_QUEUE: stack.client.taskQueue,
    PERENNIAL_DB: join(stack.dataDir, 'perennial.sqlite'),
  };
  try {
    const { stdout, stderr } = await promisify(execFile)(join(PROJECT_ROOT, 'client', 'bin.mjs'), args, { env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
