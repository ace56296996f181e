/** Reads a model spec from YAML or JSON and validates it, with one readable line per problem. */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { formatIssues, ModelSpec } from '../core/spec.ts';
import { describeForbiddenKey, findForbiddenKey } from './forbidden-keys.ts';

export class SpecError extends Error {
  override name = 'SpecError';
}

export function parseSpec(raw: unknown, origin = 'spec'): ModelSpec {
  const result = ModelSpec.safeParse(raw);
  if (!result.success) throw new SpecError(`${origin} is not a valid model spec:\n${formatIssues(result.error)}`);
  return result.data;
}

export function readSpecFile(path: string): ModelSpec {
  return parseSpec(readDataFile(path), path);
}

/** A YAML or JSON file's content (by extension: .json is JSON, anything else YAML). */
export function readDataFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SpecError(`cannot read ${path}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new SpecError(`${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  const forbidden = findForbiddenKey(data);
  if (forbidden) throw new SpecError(describeForbiddenKey(forbidden, path));
  return data;
}
