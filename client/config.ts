/**
 * Where the services are. Embedded defaults match `npm start`; environment variables point
 * Perennial at an existing Temporal cluster (or Temporal Cloud), MLflow server and model server.
 */
import { join } from 'node:path';
import { PROJECT_ROOT } from '../stack/paths.ts';

export interface TemporalConfig {
  address: string;
  namespace: string;
  /** Temporal Cloud API key; implies TLS. */
  apiKey?: string;
  tls: boolean;
}

export function temporalConfig(env = process.env): TemporalConfig {
  return {
    address: env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    apiKey: env.TEMPORAL_API_KEY || undefined,
    tls: Boolean(env.TEMPORAL_API_KEY) || env.TEMPORAL_TLS === 'true',
  };
}

export const TASK_QUEUE = process.env.PERENNIAL_TASK_QUEUE ?? 'perennial';

export const defaults = {
  mlflowUrl: () => process.env.MLFLOW_TRACKING_URI ?? 'http://127.0.0.1:5000',
  servingUrl: () => process.env.PERENNIAL_SERVING_URL ?? 'http://127.0.0.1:8080',
  adminToken: () => process.env.PERENNIAL_ADMIN_TOKEN ?? 'perennial-dev-token',
  dataDir: () => process.env.PERENNIAL_DATA_DIR ?? join(PROJECT_ROOT, '.data'),
  dbPath: () => process.env.PERENNIAL_DB ?? join(defaults.dataDir(), 'perennial.sqlite'),
};
