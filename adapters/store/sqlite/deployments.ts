/** Table deployments: which versions each model serves, one JSON state per model. */
import type Database from 'better-sqlite3';
import type { DeploymentState } from '../types.ts';
import type { DeploymentStore } from '../store.ts';
import type { Synchronous } from './synchronous.ts';

export class SqliteDeployments implements Synchronous<DeploymentStore> {
  private readonly statements;

  constructor(db: Database.Database) {
    this.statements = {
      deployment: db.prepare('SELECT state FROM deployments WHERE model = ?').pluck(),
      upsertDeployment: db.prepare(
        'INSERT INTO deployments (model, state) VALUES (?, ?) ON CONFLICT (model) DO UPDATE SET state = excluded.state',
      ),
      deployments: db.prepare('SELECT model, state FROM deployments ORDER BY model'),
    };
  }

  getDeployment(model: string): DeploymentState | undefined {
    const state = this.statements.deployment.get(model) as string | undefined;
    return state === undefined ? undefined : JSON.parse(state);
  }

  setDeployment(model: string, state: DeploymentState): void {
    this.statements.upsertDeployment.run(model, JSON.stringify(state));
  }

  listDeployments(): Array<{ model: string } & DeploymentState> {
    const rows = this.statements.deployments.all() as Array<{ model: string; state: string }>;
    return rows.map((r) => ({ model: r.model, ...JSON.parse(r.state) }));
  }

  /** SQLite cannot push a change to another process: readers poll listDeployments. */
  watchDeployments(): () => Promise<void> {
    return async () => {};
  }
}
