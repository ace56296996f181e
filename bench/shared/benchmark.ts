import type { LocalStack } from '../../stack/local.ts';

/**
 * One benchmark, one folder: `bench/<name>/index.ts` exports `benchmark`. `needs` says what
 * bench/run.ts must start for it: 'stack' is Temporal, MLflow, a worker and the model server
 * in a temporary folder (bench/shared/stack.ts); 'nothing' runs in-process, or brings up its
 * own services (the chaos scenarios kill and restart theirs).
 */
export type Benchmark = { needs: 'stack'; run: (stack: LocalStack) => Promise<object> } | { needs: 'nothing'; run: () => Promise<object> };
