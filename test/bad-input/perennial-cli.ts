/**
 * Runs the `perennial` command as a user does (a child process). Temporal points at a closed
 * port: a command refused for its input must say why before it tries to reach anything, and one
 * that got past validation shows up as "cannot reach Temporal" instead of starting something.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../config/paths.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function perennial(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const options = { env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1', ...env } };
  try {
    const { stdout, stderr } = await promisify(execFile)(join(PROJECT_ROOT, 'client', 'bin.mjs'), args, options);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
