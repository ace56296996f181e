/**
 * Table deployments: which versions each model serves, one JSON state per model. Every write
 * also notifies the channel perennial_deployments with the model's name, so model-server replicas
 * sharing the database learn of it at once (watchDeployments) rather than at their next poll.
 */
import pg from 'pg';
import type { DeploymentState } from '../types.ts';
import type { DeploymentStore } from '../store.ts';

const CHANNEL = 'perennial_deployments';
/** How long a lost listening connection waits before connecting again. */
const RECONNECT_MS = 1000;

export class PostgresDeployments implements DeploymentStore {
  constructor(private readonly pool: pg.Pool) {}

  async getDeployment(model: string): Promise<DeploymentState | undefined> {
    const { rows } = await this.pool.query<{ state: DeploymentState }>('SELECT state FROM deployments WHERE model = $1', [model]);
    return rows[0]?.state;
  }

  async setDeployment(model: string, state: DeploymentState): Promise<void> {
    // One statement, so one transaction: the notice goes out when (and only if) the row commits.
    await this.pool.query(
      `WITH written AS (
         INSERT INTO deployments (model, state) VALUES ($1, $2::json)
         ON CONFLICT (model) DO UPDATE SET state = excluded.state
         RETURNING model
       )
       SELECT pg_notify('${CHANNEL}', model) FROM written`,
      [model, JSON.stringify(state)],
    );
  }

  async listDeployments(): Promise<Array<{ model: string } & DeploymentState>> {
    const { rows } = await this.pool.query<{ model: string; state: DeploymentState }>(
      'SELECT model, state FROM deployments ORDER BY model',
    );
    return rows.map((r) => ({ model: r.model, ...r.state }));
  }

  /**
   * LISTEN on a connection of its own (a pooled one would be handed to queries and released).
   * When it is lost, it connects again after a pause and calls `onChange()` without a model:
   * notices sent meanwhile are gone, so the caller rereads everything.
   */
  async watchDeployments(onChange: (model?: string) => void): Promise<() => Promise<void>> {
    let client: pg.Client | undefined;
    let stopped = false;
    let retry: NodeJS.Timeout | undefined;
    const listen = async (): Promise<void> => {
      const next = new pg.Client(this.pool.options);
      next.on('notification', (notice) => onChange(notice.payload || undefined));
      next.on('error', (err) => {
        console.error(`perennial: Postgres store: deployment notices lost (${err.message}); listening again`);
        reconnect(next);
      });
      next.on('end', () => reconnect(next));
      client = next;
      await next.connect();
      await next.query(`LISTEN ${CHANNEL}`);
    };
    const reconnect = (lost: pg.Client) => {
      if (stopped || lost !== client || retry) return;
      client = undefined;
      lost.end().catch(() => {});
      retry = setTimeout(() => {
        retry = undefined;
        listen().then(
          () => onChange(),
          () => client && reconnect(client),
        );
      }, RECONNECT_MS);
    };
    try {
      await listen();
    } catch (err) {
      stopped = true;
      await client?.end().catch(() => {});
      throw err;
    }
    return async () => {
      stopped = true;
      clearTimeout(retry);
      await client?.end().catch(() => {});
    };
  }
}
