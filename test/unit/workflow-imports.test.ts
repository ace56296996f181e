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

test('the workflow bundle holds the drift catalogue, not the statistics behind it', () => {
  const files = reachable(join('workflows', 'index.ts'));
  assert.ok(files.has('core/spec.ts') && files.has('core/drift/catalogue.ts'), 'the walk reaches the spec and its drift-test names');
  const statistics = [...files].filter((f) => f.startsWith('core/drift/') || f.startsWith('core/metrics/') || f.startsWith('core/stats/'));
  // the sweep's samplers draw from the seeded RNG and TPE's Parzen kernels from the normal
  // distribution (core/stats/normal.ts, formerly core/sampling/normal.ts): all of core/stats/ a workflow needs
  assert.deepEqual(statistics.sort(), ['core/drift/catalogue.ts', 'core/stats/normal.ts', 'core/stats/rng.ts']);
});
