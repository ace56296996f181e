/** Real services for a benchmark run, in a temporary folder, stopped afterwards. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { temporalConfig } from '../../config/environment.ts';
import { startLocalStack, type LocalStack } from '../../stack/local.ts';
import { ensurePythonEnv, startMlflow, startTemporal } from '../../stack/services.ts';

export const BENCH_TOKEN = 'bench-token';

// Keep the workflows' decision log out of the benchmark report.
Runtime.install({ logger: new DefaultLogger('WARN') });

export async function withBenchStack(body: (stack: LocalStack) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'perennial-bench-'));
  ensurePythonEnv();
  const [temporal, mlflow] = await Promise.all([
    startTemporal({ dataDir: join(dir, 'temporal') }),
    startMlflow({ dataDir: join(dir, 'mlflow') }),
  ]);
  const stack = await startLocalStack({
    temporal: { ...temporalConfig({}), address: temporal.address },
    mlflowUrl: mlflow.url,
    dataDir: dir,
    adminToken: BENCH_TOKEN,
    servingPort: 0,
    taskQueue: 'bench',
  });
  try {
    await body(stack);
  } finally {
    await stack.stop();
    await Promise.all([temporal.stop(), mlflow.stop()]);
  }
}

export const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
