/** Table deployments: which versions each model serves, one JSON state per model. */
import type pg from 'pg';
import type { DeploymentState } from '../types.ts';
import type { DeploymentStore } from '../store.ts';

export class PostgresDeployments implements DeploymentStore {
  constructor(private readonly pool: pg.Pool) {}

  async getDeployment(model: string): Promise<DeploymentState | undefined> {
    const { rows } = await this.pool.query<{ state: DeploymentState }>('SELECT state FROM deployments WHERE model = $1', [model]);
    return rows[0]?.state;
  }

  async setDeployment(model: string, state: DeploymentState): Promise<void> {
    await this.pool.query(
      'INSERT INTO deployments (model, state) VALUES ($1, $2::json) ON CONFLICT (model) DO UPDATE SET state = excluded.state',
      [model, JSON.stringify(state)],
    );
  }

  async listDeployments(): Promise<Array<{ model: string } & DeploymentState>> {
    const { rows } = await this.pool.query<{ model: string; state: DeploymentState }>(
      'SELECT model, state FROM deployments ORDER BY model',
    );
    return rows.map((r) => ({ model: r.model, ...r.state }));
  }
}
