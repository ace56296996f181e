/**
 * Child process of the serving benchmark: Perennial's model server (serving/server.ts, batching
 * settings and PERENNIAL_DB_SYNCHRONOUS from the environment) on a SQLite file in BENCH_DIR,
 * serving model `weather` version 1, an MLP (one hidden layer of 32) trained here on the weather
 * seed rows. Loaded from memory, not
 * MLflow: the benchmark measures serving, not the registry. Prints `listening <url>` when ready.
 */
import { join } from 'node:path';
import { loadPredictor, servingFiles } from '../../ml/bundle.ts';
import { trainTrial } from '../../ml/train.ts';
import { buildServer } from '../../serving/server.ts';
import { openStore } from '../../adapters/store/index.ts';
import { defaults } from '../../config/environment.ts';
import { weatherData } from '../../stack/demo.ts';
import { CLASSES, FEATURES, MODEL, TOKEN } from './weather.ts';

const seed = weatherData().seed;
const rows = seed.map((r) => Object.fromEntries(FEATURES.map((f) => [f, Number(r[f])])));
const labels = seed.map((r) => String(r.weather));
const { checkpoint } = await trainTrial({
  config: { family: 'mlp', params: { depth: 1, width: 32, learningRate: 0.01 } },
  features: FEATURES,
  classes: CLASSES,
  train: { rows, labels },
  validation: { rows: rows.slice(0, 100), labels: labels.slice(0, 100) },
  seed: 1,
  fromEpoch: 0,
  toEpoch: 10,
});
const files = servingFiles(checkpoint);

// PERENNIAL_DB_SYNCHRONOUS as the real server takes it (serving/main.ts): full to measure what durability costs.
const store = await openStore(join(process.env.BENCH_DIR!, 'perennial.sqlite'), { synchronous: defaults.dbSynchronous() });
const app = await buildServer({ store, loadModel: async () => loadPredictor(files), adminToken: TOKEN });
const deployed = await app.inject({
  method: 'PUT',
  url: `/admin/models/${MODEL}/deployment`,
  headers: { authorization: `Bearer ${TOKEN}` },
  payload: { champion: { version: '1' }, reason: 'serving benchmark' },
});
if (deployed.statusCode !== 200) throw new Error(`deploy failed: ${deployed.body}`);
const url = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`listening ${url}`);

async function stop() {
  await app.close();
  await store.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
