/**
 * Reads the packaging files (Dockerfile, deploy/compose.yaml, deploy/k8s/) and the code they must
 * agree with, for test/deploy/packaging.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { PROJECT_ROOT } from '../../config/paths.ts';

export const read = (path: string): string => readFileSync(join(PROJECT_ROOT, path), 'utf8');

export interface Instruction {
  keyword: string;
  args: string;
}

/** A Dockerfile's stages, each its instructions: continuation lines joined, comments dropped. */
export function dockerfileStages(path: string): Instruction[][] {
  const logical = read(path)
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => line.trim());
  const stages: Instruction[][] = [[]];
  for (const line of logical) {
    const [, keyword, args] = /^\s*(\w+)\s+(.*)$/.exec(line)!;
    if (keyword.toUpperCase() === 'FROM') stages.push([]);
    stages.at(-1)!.push({ keyword: keyword.toUpperCase(), args: args.trim() });
  }
  return stages.slice(1);
}

/** `ENV A=1 B=2` instructions of a stage, as one record. */
export function dockerEnv(stage: Instruction[]): Record<string, string> {
  const pairs = stage.filter((i) => i.keyword === 'ENV').flatMap((i) => i.args.split(/\s+/));
  return Object.fromEntries(pairs.map((pair) => pair.split('=') as [string, string]));
}

export interface ComposeService {
  image?: string;
  build?: string | { context: string };
  command?: string[];
  environment?: Record<string, string | number>;
  healthcheck?: { test: string[] };
  deploy?: { replicas?: number };
}

export function composeServices(): Record<string, ComposeService> {
  return (parse(read('deploy/compose.yaml')) as { services: Record<string, ComposeService> }).services;
}

/** The compose services that run Perennial's own image (built from the repository root). */
export function perennialServices(): Record<string, ComposeService> {
  return Object.fromEntries(Object.entries(composeServices()).filter(([, s]) => typeof s.build === 'object' && s.build.context === '..'));
}

export const K8S_DIR = 'deploy/k8s';
export const k8sFiles = (): string[] =>
  readdirSync(join(PROJECT_ROOT, K8S_DIR))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(K8S_DIR, f));

export interface K8sResource {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    selector?: { matchLabels?: Record<string, string> } & Record<string, string>;
    ports?: { port: number; targetPort: string | number }[];
    template?: { metadata: { annotations?: Record<string, string> }; spec: PodSpec };
  };
}

export interface Probe {
  httpGet: { path: string; port: string | number };
}

export interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: { name: string; containerPort: number }[];
  env?: { name: string; value?: string }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
}

export interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
}

export function k8sResources(): K8sResource[] {
  return k8sFiles().flatMap((file) => parseAllDocuments(read(file)).map((doc) => doc.toJS() as K8sResource));
}

export function k8sResource(kind: string, name: string): K8sResource {
  const found = k8sResources().find((r) => r.kind === kind && r.metadata.name === name);
  if (!found) throw new Error(`${K8S_DIR} has no ${kind} ${name}`);
  return found;
}

/** The folders of the code that runs (not tests, benchmarks or scripts). */
const CODE_DIRS = ['activities', 'adapters', 'client', 'codec', 'config', 'core', 'ml', 'serving', 'stack', 'worker', 'workflows'];

/**
 * Every environment variable the code reads: `env.NAME` and `env['NAME']` (process.env or an
 * `env` parameter), and NAME-shaped string literals in files that read the environment, which
 * catches the helpers that take a variable's name (`bindAddress('PERENNIAL_WORKER_METRICS', env)`,
 * `number(env, 'PERENNIAL_BATCH_MAX_ROWS', ...)`, `BACKEND_ENV = 'PERENNIAL_TF_BACKEND'`).
 */
export function envNamesReadByCode(): Set<string> {
  const names = new Set<string>();
  for (const dir of CODE_DIRS) {
    for (const file of readdirSync(join(PROJECT_ROOT, dir), { recursive: true }).map(String)) {
      if (!/\.(ts|mjs)$/.test(file)) continue;
      const source = read(join(dir, file));
      if (!/\benv\b/.test(source)) continue;
      for (const m of source.matchAll(/\benv\.([A-Z][A-Z0-9_]*)\b/g)) names.add(m[1]);
      for (const m of source.matchAll(/\benv\[\s*'([A-Z][A-Z0-9_]*)'\s*\]/g)) names.add(m[1]);
      for (const m of source.matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g)) names.add(m[1]);
    }
  }
  return names;
}

/** `host:port` to its port. */
export const portOf = (bindAddress: string): number => Number(/:(\d+)$/.exec(bindAddress)![1]);
