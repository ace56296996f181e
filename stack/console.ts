/**
 * The review console (console/main.ts) as its own process beside the local stack, and the
 * reviewers file `npm start` makes for it on first use: one reviewer, you, with a random token,
 * in a file only you can read. Nothing here imports console/: it is started, not linked.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { stringify as toYaml } from 'yaml';
import { PROJECT_ROOT } from '../config/paths.ts';

export interface ConsoleProcessOptions {
  /** The console's environment on top of this process's: Temporal, MLflow, UI links. */
  env: Record<string, string>;
  reviewersFile: string;
  /** 0 picks a free port. */
  port: number;
}

export interface ConsoleProcess {
  url: string;
  /** Everything it printed, for a failure's message. */
  output: string[];
  stop(): Promise<void>;
}

const READY = /^perennial console on (\S+)/;

/** Starts console/main.ts; resolves with its URL once it listens, or fails with what it printed. */
export async function startConsoleProcess(options: ConsoleProcessOptions): Promise<ConsoleProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'console', 'main.ts')], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      ...options.env,
      PERENNIAL_CONSOLE_REVIEWERS_FILE: options.reviewersFile,
      PERENNIAL_CONSOLE_PORT: String(options.port),
    },
    // The IPC channel closes when this process ends, even by SIGKILL: the console then stops too.
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    for (const stream of [child.stdout!, child.stderr!])
      createInterface({ input: stream }).on('line', (line) => {
        output.push(line);
        const ready = READY.exec(line);
        if (ready) resolve(ready[1]);
      });
    void exited.then((code) => reject(new Error(`the review console exited with ${code}:\n${output.join('\n')}`)));
  });
  return {
    url,
    output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * The local reviewers file: made on first use with one reviewer (PERENNIAL_REVIEWER, else your
 * login name) and a random token, readable by you alone; left as it is afterwards.
 */
export function localReviewersFile(dataDir: string, env = process.env): { path: string; created?: string } {
  const path = join(dataDir, 'console', 'reviewers.yaml');
  if (existsSync(path)) return { path };
  const reviewer = env.PERENNIAL_REVIEWER?.trim() || userInfo().username;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const header = "# The review console's reviewers: name and secret token. Add a line per reviewer; keep this file private.\n";
  writeFileSync(path, header + toYaml({ reviewers: { [reviewer]: randomBytes(24).toString('base64url') } }), { mode: 0o600, flag: 'wx' });
  return { path, created: reviewer };
}
