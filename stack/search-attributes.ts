/**
 * Registers Perennial's search attributes (core/messages.ts SEARCH_ATTRIBUTES) on the Temporal
 * dev server. `start-dev --search-attribute` applies only when it creates its database, so a
 * `.data/temporal.sqlite` from an earlier version would lack the attributes added since, and
 * every lifecycle upserting one would fail its workflow tasks. `temporal operator
 * search-attribute create` adds the missing ones and leaves existing ones alone; another
 * Temporal server needs the same command once, run by its operator (see the README).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { TypedSearchAttributes } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../core/messages.ts';

/** `--name <name> --type <type>` for each attribute, as `temporal operator search-attribute create` takes them. */
export const searchAttributeFlags = (): string[] =>
  SEARCH_ATTRIBUTES.flatMap((key) => ['--name', key.name, '--type', TypedSearchAttributes.toMetadataType(key.type)]);

export async function registerSearchAttributes(temporalBin: string, address: string, namespace = 'default'): Promise<void> {
  const args = ['operator', 'search-attribute', 'create', '--address', address, '--namespace', namespace, ...searchAttributeFlags()];
  let error = '';
  // The port answers a moment before the operator service does (and a new namespace a moment after it is created).
  for (let attempt = 0; attempt < 40; attempt++) {
    try {
      await promisify(execFile)(temporalBin, args);
      return;
    } catch (err) {
      error = ((err as { stderr?: string }).stderr ?? (err as Error).message).trim();
      // An attribute of the same name with another type needs a person: retrying cannot help.
      if (/different type/.test(error)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`could not register the search attributes on the Temporal dev server at ${address}: ${error}`);
}
