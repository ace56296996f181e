/** The `perennial` command run as a user runs it: a child process, against a test's stack. */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../config/paths.ts';
import { mlflowUrl, temporalAddress } from './services.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

type CliStack = { client: { taskQueue: string }; dataDir: string };
const BIN = join(PROJECT_ROOT, 'client', 'bin.mjs');

async function cliEnv(stack: CliStack): Promise<NodeJS.ProcessEnv> {
  return {
    ...process.env,
    TEMPORAL_ADDRESS: await temporalAddress(),
    MLFLOW_TRACKING_URI: await mlflowUrl(),
    PERENNIAL_TASK_QUEUE: stack.client.taskQueue,
    PERENNIAL_DB: join(stack.dataDir, 'perennial.sqlite'),
  };
}

/** `perennial <args>` started as runCli runs it, for a test that reads its output as it comes or signals it; stdout is a pipe. */
export async function spawnCli(stack: CliStack, ...args: string[]): Promise<ChildProcess> {
  return spawn(BIN, args, { env: await cliEnv(stack), stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Runs `perennial <args>` against the test's Temporal server (also when this file started its
 * own, on a free port), task queue and SQLite log; never throws on a non-zero exit.
 */
export async function runCli(stack: CliStack, ...args: string[]): Promise<CliResult> {
  const env = await cliEnv(stack);
  try {
    const { stdout, stderr } = await promisify(execFile)(BIN, args, { env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
