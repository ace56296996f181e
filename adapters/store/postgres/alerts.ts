/**
 * Table alerts, the alert ledger. Admitted alerts (suppressed IS NULL) feed the rate limit and
 * dedup; delivered lists the channels that took an alert, so a retry only tries the others.
 */
import type pg from 'pg';
import type { AlertClaim, AlertLedgerEntry, AlertSuppression } from '../types.ts';
import type { AlertLedger } from '../store.ts';
import { ALERT_LOCK, transaction, type Queryable } from './db.ts';

interface AlertRow {
  id: string;
  model: string;
  kind: string;
  dedup_key: string | null;
  suppressed: AlertSuppression | null;
  delivered: string[];
  created_at: string;
}

function alertEntry(row: AlertRow): AlertLedgerEntry {
  return {
    id: row.id,
    model: row.model,
    kind: row.kind,
    ...(row.dedup_key === null ? {} : { dedupKey: row.dedup_key }),
    at: Date.parse(row.created_at),
    ...(row.suppressed === null ? {} : { suppressed: row.suppressed }),
    delivered: row.delivered,
  };
}

async function alertRow(db: Queryable, id: string): Promise<AlertRow | undefined> {
  return (await db.query<AlertRow>('SELECT * FROM alerts WHERE id = $1', [id])).rows[0];
}

export class PostgresAlertLedger implements AlertLedger {
  constructor(
    private readonly pool: pg.Pool,
    private readonly now: () => Date,
  ) {}

  /**
   * Claims of one model and kind take turns on an advisory lock held to the end of the
   * transaction: the second reads a history with the first's verdict in it, so two senders
   * cannot both squeeze under a rate limit. (Locking the history's rows would not do: an empty
   * history has none to lock.)
   */
  async claimAlert(
    claim: AlertClaim,
    lookbackMs: number,
    decide: (history: AlertLedgerEntry[], now: number) => AlertSuppression | undefined,
  ): Promise<AlertLedgerEntry> {
    return transaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [ALERT_LOCK, JSON.stringify([claim.model, claim.kind])]);
      const existing = await alertRow(client, claim.id);
      if (existing) return alertEntry(existing);
      const now = this.now();
      const since = new Date(now.getTime() - lookbackMs).toISOString();
      const { rows } = await client.query<AlertRow>(
        'SELECT * FROM alerts WHERE model = $1 AND kind = $2 AND suppressed IS NULL AND created_at > $3 ORDER BY created_at',
        [claim.model, claim.kind, since],
      );
      const suppressed = decide(rows.map(alertEntry), now.getTime());
      // The same id claimed at once under another model or kind (another lock): the first one stands.
      await client.query(
        `INSERT INTO alerts (id, model, kind, dedup_key, suppressed, created_at) VALUES ($1, $2, $3, $4, $5::json, $6)
         ON CONFLICT (id) DO NOTHING`,
        [claim.id, claim.model, claim.kind, claim.dedupKey ?? null, suppressed ? JSON.stringify(suppressed) : null, now.toISOString()],
      );
      return alertEntry((await alertRow(client, claim.id))!);
    });
  }

  async getAlert(id: string): Promise<AlertLedgerEntry | undefined> {
    const row = await alertRow(this.pool, id);
    return row && alertEntry(row);
  }

  /** One statement: concurrent deliveries of one alert queue on its row and each sees the other's channel. */
  async recordAlertDelivery(id: string, channel: string): Promise<void> {
    const updated = await this.pool.query(
      `UPDATE alerts SET delivered = CASE WHEN $2 = ANY (delivered) THEN delivered ELSE array_append(delivered, $2) END WHERE id = $1`,
      [id, channel],
    );
    if (updated.rowCount === 0) throw new RangeError(`no alert "${id}" in the ledger`);
  }
}
