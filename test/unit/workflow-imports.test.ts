import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../../config/paths.ts';

/**
 * The files the workflow bundle holds: every module reachable from workflows/index.ts through
 * value imports (`import type` and all-type import lists are erased, so they do not count).
 */
function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const stack = [resolve(PROJECT_ROOT, entry)];
  const importRe = /^\s*(?:import|export)\s+(?!type\b)([^'";]*?)\s*from\s*'(\.[^']+)'|^\s*import\s+'(\.[^']+)'/gm;
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(importRe)) {
      const names = m[1]?.trim();
      const onlyTypes =
        names !== undefined &&
        /^\{[^}]*\}$/.test(names) &&
        names
          .slice(1, -1)
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
          .every((s) => s.startsWith('type '));
      if (onlyTypes) continue;
      const target = resolve(dirname(file), m[2] ?? m[3]);
      if (existsSync(target)) stack.push(target);
    }
  }
  return new Set([...seen].map((f) => relative(PROJECT_ROOT, f).split('\\').join('/')));
}

/**
 * Every cached workflow evaluates the bundle's modules in its own sandbox, so what the bundle
 * holds is paid once per model on a worker: the spec's zod schemas (about 0.7 MiB of heap per
 * workflow, measured with heap snapshots for issue 13) and the statistics behind drift tests stay
 * out of it; workflows read a parsed spec through core/spec-reading.ts.
 */
test('the workflow bundle holds neither the spec schemas nor the statistics behind drift tests', () => {
  const files = reachable(join('workflows', 'index.ts'));
  assert.ok(files.has('core/spec-reading.ts') && files.has('core/messages.ts'), 'the walk reaches what workflows read a spec with');
  const schemas = ['core/spec.ts', 'core/alerts-spec.ts', 'core/sweep-spec.ts', 'core/gates/spec.ts'].filter((f) => files.has(f));
  assert.deepEqual(schemas, [], 'spec schemas in the workflow bundle');
  const statistics = [...files].filter((f) => f.startsWith('core/drift/') || f.startsWith('core/metrics/') || f.startsWith('core/stats/'));
  // the sweep's samplers draw from the seeded RNG and TPE's Parzen kernels from the normal
  // distribution (core/stats/normal.ts): all of core/stats/ a workflow needs
  assert.deepEqual(statistics.sort(), ['core/stats/normal.ts', 'core/stats/rng.ts']);
});

/**
 * Nor does any module of the bundle build a zod schema when it loads: that would be built again
 * for every cached workflow. Message schemas are built on first use (core/lazy-schema.ts); zod
 * itself is evaluated once, preloaded (workflows/shared-modules.ts).
 */
test('no module of the workflow bundle builds a zod schema at load', () => {
  const files = reachable(join('workflows', 'index.ts'));
  const schemaAtLoad = /^(?:export )?const (\w+)(?::[^=\n]+)? =\s*z\b/gm;
  const found = [...files].flatMap((f) =>
    [...readFileSync(join(PROJECT_ROOT, f), 'utf8').matchAll(schemaAtLoad)].map((m) => `${f}: ${m[1]}`),
  );
  assert.deepEqual(found, []);
  assert.ok(files.has('core/policy.ts') && files.has('core/training-permits.ts'), 'the walk reaches the message schemas');
});
