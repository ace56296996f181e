/** Input checks: what MLflow would reject only after a round trip, or silently mangle. */
import type { KeyValue } from './schemas.ts';

// MLflow's rule on Linux: letters, digits, underscores, dashes, periods, spaces, colons and slashes.
const KEY_CHARACTERS = /^[\p{L}\p{N}_\-. :/]+$/u;

export function checkKey(kind: string, key: string): string {
  if (key.length === 0 || key.length > 250) throw new Error(`${kind} "${key}" must be 1 to 250 characters long`);
  if (!KEY_CHARACTERS.test(key)) throw new Error(`${kind} "${key}" may only contain letters, digits, spaces and _ - . : /`);
  // MLflow may store keys as file paths, so they must not resolve to other paths.
  if (key.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new Error(`${kind} "${key}" must not start or end with "/" nor contain "//", "." or ".." segments`);
  }
  return key;
}

export function checkAlias(alias: string): string {
  if (!/^[\w-]{1,255}$/.test(alias)) throw new Error(`alias "${alias}" may only contain letters, digits, _ and -`);
  if (/^(latest|v\d+)$/i.test(alias)) throw new Error(`alias "${alias}" is reserved by MLflow`);
  return alias;
}

/** MLflow's filter grammar has no escape for a quote inside a string literal. */
export function literal(value: string): string {
  if (value.includes("'")) throw new Error(`cannot search MLflow for a value containing a single quote: ${value}`);
  return `'${value}'`;
}

/** A record as MLflow's key-value list, every key checked. */
export function keyValues(kind: string, record: Record<string, string>): KeyValue[] {
  return Object.entries(record).map(([key, value]) => ({ key: checkKey(kind, key), value }));
}
