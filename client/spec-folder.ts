/**
 * The specs `perennial register` is given: one file, or every *.yaml/*.yml/*.json file of a
 * folder (not its subfolders). All of them are validated before any is registered, so a fleet
 * is registered whole or not at all.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelSpec } from '../core/spec.ts';
import { readSpecFile, SpecError } from './spec-file.ts';

export interface SpecSource {
  path: string;
  spec: ModelSpec;
}

const SPEC_FILE = /\.(ya?ml|json)$/i;

/**
 * The valid specs at `path`, or a SpecError naming every bad file and every model named twice,
 * after `refusal` (what the command did not do).
 */
export function readSpecs(path: string, refusal = 'nothing registered'): SpecSource[] {
  let folder: boolean;
  try {
    folder = statSync(path).isDirectory();
  } catch (err) {
    throw new SpecError(`cannot read ${path}: ${(err as Error).message}`);
  }
  if (!folder) return [{ path, spec: readSpecFile(path) }];

  const files = readdirSync(path, { withFileTypes: true })
    .filter((entry) => entry.isFile() && SPEC_FILE.test(entry.name))
    .map((entry) => join(path, entry.name))
    .sort();
  if (files.length === 0) throw new SpecError(`${path} has no spec files (*.yaml, *.yml, *.json)`);

  const sources: SpecSource[] = [];
  const problems: string[] = [];
  for (const file of files) {
    try {
      sources.push({ path: file, spec: readSpecFile(file) });
    } catch (err) {
      if (!(err instanceof SpecError)) throw err;
      problems.push(err.message);
    }
  }
  problems.push(...duplicateNames(sources));
  if (problems.length) throw new SpecError(`${refusal}: ${problems.length} problem(s) in ${path}\n${problems.join('\n')}`);
  return sources;
}

/** "model x is named by a.yaml and b.yaml": two files would fight over one lifecycle. */
function duplicateNames(sources: SpecSource[]): string[] {
  const byName = new Map<string, string[]>();
  for (const { path, spec } of sources) byName.set(spec.name, [...(byName.get(spec.name) ?? []), path]);
  return [...byName]
    .filter(([, paths]) => paths.length > 1)
    .map(([name, paths]) => `model ${name} is named by ${paths.join(' and ')}: one file per model`);
}
