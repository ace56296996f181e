/**
 * The image's file layout without Docker: the final stage's COPY instructions carried out into a
 * temporary folder (node_modules linked from this checkout, as the builder stage installs them),
 * and its roles run through deploy/entrypoint.sh with the Dockerfile's ENV. What the image would
 * lack (a folder not copied, an entrypoint path that moved) fails here too; what only a real
 * build shows (npm ci, the native compile, the base image) does not.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PROJECT_ROOT } from '../../config/paths.ts';
import { tempDir } from '../helpers/services.ts';
import { dockerEnv, dockerfileStages } from './deploy-files.ts';

export interface ImageLayout {
  /** The image's WORKDIR. */
  app: string;
  entrypoint: string;
  env: Record<string, string>;
}

export function stageImage(): ImageLayout {
  const final = dockerfileStages('Dockerfile').at(-1)!;
  const root = tempDir('perennial-image-');
  const workdir = final.find((i) => i.keyword === 'WORKDIR')!.args;
  const inImage = (path: string) => join(root, path.startsWith('/') ? path : join(workdir, path));
  mkdirSync(inImage('.'), { recursive: true });
  for (const { keyword, args } of final) {
    if (keyword !== 'COPY') continue;
    const words = args.split(/\s+/);
    const dest = words.at(-1)!;
    if (words.some((w) => w.startsWith('--from='))) {
      symlinkSync(join(PROJECT_ROOT, 'node_modules'), inImage(dest));
      continue;
    }
    const sources = words.slice(0, -1).filter((w) => !w.startsWith('--'));
    for (const source of sources) {
      const target = dest.endsWith('/') && sources.length > 1 ? join(inImage(dest), source) : inImage(dest);
      mkdirSync(dirname(target), { recursive: true });
      cpSync(join(PROJECT_ROOT, source), target, { recursive: true });
    }
  }
  // ENTRYPOINT names a command on the PATH: the COPY destination of that name.
  const [command] = JSON.parse(final.find((i) => i.keyword === 'ENTRYPOINT')!.args) as string[];
  const destinations = final.filter((i) => i.keyword === 'COPY').map((i) => i.args.split(/\s+/).at(-1)!);
  const entrypoint = destinations.find((dest) => basename(dest) === command);
  if (!entrypoint) throw new Error(`no COPY puts the ENTRYPOINT ${command} in the image`);
  return { app: inImage('.'), entrypoint: inImage(entrypoint), env: dockerEnv(final) };
}

/**
 * Runs a role as the image would (`perennial-entrypoint <role> ...`): the Dockerfile's ENV over
 * this process's, then `overrides`. Variables that would point at this checkout's own
 * services (set by test/run.ts) are left out unless overridden.
 */
export function runRole(image: ImageLayout, args: string[], overrides: Record<string, string>): ChildProcess {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(PERENNIAL_|TEMPORAL_|MLFLOW_)/.test(name) && name !== 'HOST' && name !== 'PORT'),
  );
  return spawn('sh', [image.entrypoint, ...args], {
    cwd: image.app,
    env: { ...inherited, ...image.env, ...overrides },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Resolves with the exit code (or signal) and everything the process printed. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, output })));
}

/** Polls `url` until it answers 200, the process exits, or `timeoutMs` passes. */
export async function until200(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited before ${url} answered`);
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}
