/** Reads a model spec from YAML or JSON and validates it, with one readable line per problem. */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { formatIssues, ModelSpec } from '../core/spec.ts';

export class SpecError extends Error {
  override name = 'SpecError';
}

export function parseSpec(raw: unknown, origin = 'spec'): ModelSpec {
  const result = ModelSpec.safeParse(raw);
  if (!result.success) throw new SpecError(`${origin} is not a valid model spec:\n${formatIssues(result.error)}`);
  return result.data;
}

export function readSpecFile(path: string): ModelSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SpecError(`cannot read spec file ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new SpecError(`${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  return parseSpec(raw, path);
}
