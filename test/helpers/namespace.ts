/** A Temporal namespace of a test's own, for what is namespace-wide (the training permits). */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { VENV_BIN } from '../../stack/services.ts';
import { registerSearchAttributes } from '../../stack/search-attributes.ts';
import { temporalAddress } from './services.ts';

export async function createNamespace(prefix: string): Promise<string> {
  const namespace = `${prefix}-${randomUUID().slice(0, 8)}`;
  const temporal = join(VENV_BIN, 'temporal');
  const address = await temporalAddress();
  await promisify(execFile)(temporal, ['operator', 'namespace', 'create', '--address', address, '--namespace', namespace]);
  await registerSearchAttributes(temporal, address, namespace);
  return namespace;
}
