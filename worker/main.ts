/** Worker process entry point: `tsx worker/main.ts`, configured by environment variables. */
import { join } from 'node:path';
import { defaults, temporalConfig } from '../client/config.ts';
import { createWorker } from './worker.ts';

const { worker, close } = await createWorker({
  temporal: temporalConfig(),
  mlflowUrl: defaults.mlflowUrl(),
  dbPath: defaults.dbPath(),
  serving: { url: defaults.servingUrl(), adminToken: defaults.adminToken() },
  cacheDir: join(defaults.dataDir(), 'cache'),
});
console.log(`perennial worker polling task queue "${worker.options.taskQueue}"`);
await worker.run();
await close();
