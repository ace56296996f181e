/**
 * The dev server knows every search attribute Perennial upserts, also when its database was
 * created by an earlier version that had fewer (an `npm start` upgrade: `start-dev
 * --search-attribute` would apply only to a new database). A real dev server on its own data
 * folder, started twice.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { TypedSearchAttributes } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../../core/messages.ts';
import { startTemporal, VENV_BIN } from '../../stack/services.ts';
import { onTeardown, tempDir } from '../helpers/services.ts';

const temporal = (...args: string[]) => execFileSync(join(VENV_BIN, 'temporal'), args, { encoding: 'utf8' });

/** Name and type of every custom search attribute the server lists. */
function registered(address: string): Map<string, string> {
  const listed = JSON.parse(temporal('operator', 'search-attribute', 'list', '--address', address, '-o', 'json')) as {
    customAttributes?: Record<string, string>;
  };
  return new Map(Object.entries(listed.customAttributes ?? {}));
}

test('a dev server started on an older database gets the attributes added since', { timeout: 3 * 60_000 }, async () => {
  const dataDir = tempDir('perennial-temporal-sa-');
  const first = await startTemporal({ dataDir });
  onTeardown(() => first.stop());
  // As a database from before LastVerdict existed.
  temporal('operator', 'search-attribute', 'remove', '--address', first.address, '--name', 'LastVerdict', '--yes');
  assert.equal(registered(first.address).has('LastVerdict'), false);
  await first.stop();

  const second = await startTemporal({ dataDir });
  onTeardown(() => second.stop());
  const known = registered(second.address);
  for (const key of SEARCH_ATTRIBUTES) {
    assert.match(known.get(key.name) ?? 'missing', new RegExp(TypedSearchAttributes.toMetadataType(key.type), 'i'), key.name);
  }
});
