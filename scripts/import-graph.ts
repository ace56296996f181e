/**
 * `npm run graph`: the project's import graph between top-level folders, from every
 * non-test source file's relative imports. Prints each folder's arrows (with how many files
 * import, and whether only types cross), then any cycle between folders, and exits 1 if there
 * is one. ESLint (eslint.config.js) says which arrows may exist; this says that they never
 * close a circle, which a per-file rule cannot see.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { PROJECT_ROOT } from '../config/paths.ts';

const SKIP = new Set(['node_modules', '.venv', '.data', '.git', 'test', 'results']);
const IMPORT = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]/g;
const DYNAMIC = /import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIP.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|mjs)$/.test(entry.name) ? [path] : [];
  });
}

const folderOf = (file: string) => relative(PROJECT_ROOT, file).split(sep)[0];

interface Edge {
  files: Set<string>;
  typeOnly: boolean;
}

const edges = new Map<string, Map<string, Edge>>();
for (const file of sourceFiles(PROJECT_ROOT)) {
  const from = folderOf(file);
  if (!relative(PROJECT_ROOT, file).includes(sep)) continue; // root config files belong to no layer
  const text = readFileSync(file, 'utf8');
  const found = [...text.matchAll(IMPORT)].map((m) => ({ spec: m[3], typeOnly: Boolean(m[2]) }));
  found.push(...[...text.matchAll(DYNAMIC)].map((m) => ({ spec: m[1], typeOnly: false })));
  for (const { spec, typeOnly } of found) {
    const to = folderOf(resolve(dirname(file), spec));
    if (to === from) continue;
    const out = edges.get(from) ?? new Map<string, Edge>();
    edges.set(from, out);
    const edge = out.get(to) ?? { files: new Set(), typeOnly: true };
    edge.files.add(relative(PROJECT_ROOT, file));
    edge.typeOnly &&= typeOnly;
    out.set(to, edge);
  }
}

/** Tarjan's strongly connected components: every component of more than one folder is a cycle. */
function cycles(): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      component.push(w);
    } while (w !== v);
    if (component.length > 1) found.push(component.sort());
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return found;
}

for (const [from, out] of [...edges].sort(([a], [b]) => a.localeCompare(b))) {
  const arrows = [...out]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([to, e]) => `${to} (${e.files.size}${e.typeOnly ? ', types only' : ''})`);
  console.log(`${from.padEnd(11)} -> ${arrows.join(', ')}`);
}
const found = cycles();
if (found.length === 0) {
  console.log('no cycle between folders');
} else {
  for (const component of found) console.error(`cycle between folders: ${component.join(', ')}`);
  process.exit(1);
}
