/**
 * Which code trained a model: recorded on every MLflow run and model version, and compared by
 * `perennial retrain --if-code-changed`.
 *
 * `codeHash` covers only what decides a trained model given its data and spec: the folders that
 * run on the training path (core/, ml/, activities/, workflows/) and the TensorFlow.js versions.
 * A README or CLI change leaves it alone, so it does not retrain a fleet. The git commit, when
 * the code runs from a checkout, says where to read that code; an image built without git still
 * has the package version and the hash.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { PROJECT_ROOT } from './paths.ts';

export const TRAINING_CODE_FOLDERS = ['core', 'ml', 'activities', 'workflows'] as const;

export interface SourceVersion {
  /** The package's version (package.json). */
  packageVersion: string;
  /** sha256 of the training code (see above), hex. */
  codeHash: string;
  /** The checkout's commit, when the code runs from a git checkout. */
  gitCommit?: string;
  /** Training code differs from `gitCommit` (uncommitted changes). */
  gitDirty?: boolean;
}

/** The MLflow tags of a source version: MLflow's own commit tag and Perennial's. */
export const SOURCE_TAGS = {
  codeHash: 'perennial.code_hash',
  packageVersion: 'perennial.package_version',
  gitCommit: 'mlflow.source.git.commit',
  gitDirty: 'perennial.code_dirty',
} as const;

export function sourceVersionTags(v: SourceVersion): Record<string, string> {
  return {
    [SOURCE_TAGS.codeHash]: v.codeHash,
    [SOURCE_TAGS.packageVersion]: v.packageVersion,
    ...(v.gitCommit ? { [SOURCE_TAGS.gitCommit]: v.gitCommit } : {}),
    ...(v.gitDirty ? { [SOURCE_TAGS.gitDirty]: 'true' } : {}),
  };
}

/** The source-version tags among `tags` (a run's, to copy onto what the run made). */
export function sourceTagsOf(tags: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.values(SOURCE_TAGS).flatMap((k) => (tags[k] === undefined ? [] : [[k, tags[k]]])));
}

let current: SourceVersion | undefined;

/** This process's source version, read once. */
export function currentSourceVersion(root = PROJECT_ROOT): SourceVersion {
  if (root === PROJECT_ROOT && current) return current;
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; dependencies?: Record<string, string> };
  const tfjs = Object.entries(pkg.dependencies ?? {}).filter(([name]) => name.startsWith('@tensorflow/'));
  const hash = createHash('sha256');
  hash.update(JSON.stringify(tfjs.sort()));
  for (const file of TRAINING_CODE_FOLDERS.flatMap((folder) => sourceFiles(join(root, folder))).sort()) {
    // Paths with `/` whatever the platform, so the hash is the same on every machine.
    hash.update(`\0${relative(root, file).split(sep).join('/')}\0`);
    hash.update(readFileSync(file));
  }
  const version: SourceVersion = { packageVersion: pkg.version, codeHash: hash.digest('hex'), ...gitState(root) };
  if (root === PROJECT_ROOT) current = version;
  return version;
}

function sourceFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|js|mjs|json)$/.test(entry.name) ? [path] : [];
  });
}

function gitState(root: string): Pick<SourceVersion, 'gitCommit' | 'gitDirty'> {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    // A copy of Perennial inside someone else's repository is not a checkout of Perennial.
    if (realpathSync(git('rev-parse', '--show-toplevel')) !== realpathSync(root)) return {};
    const gitCommit = git('rev-parse', 'HEAD');
    const changes = git('status', '--porcelain', '--', ...TRAINING_CODE_FOLDERS, 'package.json');
    return { gitCommit, gitDirty: changes.length > 0 };
  } catch {
    // No git, or not a checkout (an image, an unpacked package): the hash alone identifies the code.
    return {};
  }
}
