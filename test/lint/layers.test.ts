/**
 * The layer rules in eslint.config.js bite: synthetic sources, linted as if they lived at a
 * given path, and the import rule fires exactly where a layer is crossed.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
import { PROJECT_ROOT } from '../../config/paths.ts';

const RULE = '@typescript-eslint/no-restricted-imports';
// The synthetic files belong to no tsconfig project, so they are linted without type information:
// the layer rule needs none, the typed promise rules are off here.
const eslint = new ESLint({
  cwd: PROJECT_ROOT,
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-misused-promises': 'off',
      '@typescript-eslint/await-thenable': 'off',
    },
  },
});

/** The lines on which the layer rule fires for `code` linted as the file at `path`. */
async function layerViolations(path: string, code: string): Promise<number[]> {
  const [result] = await eslint.lintText(code, { filePath: join(PROJECT_ROOT, path) });
  return result.messages.filter((m) => m.ruleId === RULE).map((m) => m.line);
}

describe('layer rules', () => {
  it('core/ imports no other project folder, types included, at any depth', async () => {
    assert.deepEqual(await layerViolations('core/x.ts', "import { activities } from '../activities/index.ts';\n"), [1]);
    assert.deepEqual(await layerViolations('core/x.ts', "import type { ModelBundle } from '../ml/bundle.ts';\n"), [1]);
    assert.deepEqual(await layerViolations('core/x.ts', "export { createModel } from '../ml/model.ts';\n"), [1]);
    assert.deepEqual(
      await layerViolations(
        'core/drift/x.ts',
        "import { ksTwoSample } from '../stats.ts';\nimport { Store } from '../../adapters/store/store.ts';\n",
      ),
      [2],
    );
    assert.deepEqual(await layerViolations('core/drift/x.ts', "import { ksTwoSample } from '../../core/stats/ks.ts';\n"), []);
  });

  it('workflows/ import core/ at run time, and only the Activities type from activities/index.ts', async () => {
    assert.deepEqual(await layerViolations('workflows/x.ts', "import { parseSpec } from '../core/spec.ts';\n"), []);
    assert.deepEqual(await layerViolations('workflows/x.ts', "import type { Activities } from '../activities/index.ts';\n"), []);
    assert.deepEqual(await layerViolations('workflows/x.ts', "import { type Activities } from '../activities/index.ts';\n"), []);
    assert.deepEqual(await layerViolations('workflows/x.ts', "import { activities } from '../activities/index.ts';\n"), [1]);
    assert.deepEqual(await layerViolations('workflows/x.ts', "import type { Snapshot } from '../activities/data.ts';\n"), [1]);
    assert.deepEqual(await layerViolations('workflows/x.ts', "import { openStore } from '../adapters/store/store.ts';\n"), [1]);
    assert.deepEqual(await layerViolations('workflows/x.ts', "import type { Store } from '../adapters/store/store.ts';\n"), [1]);
  });

  it('adapters/ import only core/', async () => {
    assert.deepEqual(await layerViolations('adapters/store/x.ts', "import { PerennialError } from '../../core/errors.ts';\n"), []);
    assert.deepEqual(await layerViolations('adapters/store/x.ts', "import { buildServer } from '../../serving/server.ts';\n"), [1]);
    assert.deepEqual(await layerViolations('adapters/mlflow/x.ts', "import { DATA_DIR } from '../../config/paths.ts';\n"), [1]);
  });

  it('config/ imports only core/ and codec/', async () => {
    assert.deepEqual(
      await layerViolations('config/x.ts', "import { loadKeys } from '../codec/keys.ts';\nimport { parseSpec } from '../core/spec.ts';\n"),
      [],
    );
    assert.deepEqual(await layerViolations('config/x.ts', "import { startTemporal } from '../stack/services.ts';\n"), [1]);
  });

  it('nothing imports bench/ or test/, except bench/ and test/ themselves; tests import anything but bench/', async () => {
    assert.deepEqual(await layerViolations('serving/x.ts', "import { startStack } from '../bench/shared/stack.ts';\n"), [1]);
    assert.deepEqual(await layerViolations('stack/chaos/x.ts', "import { registerSeeded } from '../../test/helpers/stack.ts';\n"), [1]);
    assert.deepEqual(await layerViolations('bench/drift/x.ts', "import { registerSeeded } from '../../test/helpers/stack.ts';\n"), [1]);
    assert.deepEqual(
      await layerViolations(
        'bench/drift/x.ts',
        "import { startStack } from '../shared/stack.ts';\nimport { openStore } from '../../adapters/store/store.ts';\n",
      ),
      [],
    );
    assert.deepEqual(await layerViolations('test/unit/x.test.ts', "import { runDrift } from '../../bench/drift/index.ts';\n"), [1]);
    assert.deepEqual(
      await layerViolations(
        'test/unit/x.test.ts',
        "import { buildServer } from '../../serving/server.ts';\nimport { registerSeeded } from '../helpers/stack.ts';\n",
      ),
      [],
    );
  });

  it('console/ imports core/, adapters/, config/ and client/; nothing but tests imports console/', async () => {
    assert.deepEqual(
      await layerViolations(
        'console/pages/x.ts',
        "import { listFleet } from '../../client/fleet.ts';\nimport { renderChart } from '../../adapters/charts/render.ts';\nimport { defaults } from '../../config/environment.ts';\n",
      ),
      [],
    );
    assert.deepEqual(await layerViolations('console/x.ts', "import { startLocalStack } from '../stack/local.ts';\n"), [1]);
    assert.deepEqual(await layerViolations('console/x.ts', "import type { Activities } from '../activities/index.ts';\n"), [1]);
    assert.deepEqual(await layerViolations('stack/x.ts', "import { buildConsole } from '../console/server.ts';\n"), [1]);
    assert.deepEqual(await layerViolations('client/x.ts', "import { Reviewers } from '../console/reviewers.ts';\n"), [1]);
    assert.deepEqual(await layerViolations('bench/fleet/x.ts', "import { buildConsole } from '../../console/server.ts';\n"), [1]);
    assert.deepEqual(await layerViolations('test/console/x.test.ts', "import { buildConsole } from '../../console/server.ts';\n"), []);
  });
});
