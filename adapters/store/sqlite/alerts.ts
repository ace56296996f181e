/**
 * Table alerts, the alert ledger. Admitted alerts (suppressed IS NULL) feed the rate limit and
 * dedup; delivered is a JSON array of the channels that took an alert, so a retry only tries the
 * others.
 */
import type Database from 'better-sqlite3';
import type { AlertClaim, AlertLedgerEntry, AlertSuppression } from '../types.ts';
import type { AlertLedger } from '../store.ts';
import type { Synchronous } from './synchronous.ts';

interface AlertRow {
  id: string;
  model: string;
  kind: string;
  dedup_key: string | null;
  suppressed: string | null;
  delivered: string;
  created_at: string;
}

function alertEntry(row: AlertRow): AlertLedgerEntry {
  return {
    id: row.id,
    model: row.model,
    kind: row.kind,
    ...(row.dedup_key === null ? {} : { dedupKey: row.dedup_key }),
    at: Date.parse(row.created_at),
    ...(row.suppressed === null ? {} : { suppressed: JSON.parse(row.suppressed) }),
    delivered: JSON.parse(row.delivered),
  };
}

export class SqliteAlertLedger implements Synchronous<AlertLedger> {
  private readonly statements;

  constructor(
    private readonly db: Database.Database,
    private readonly now: () => Date,
  ) {
    this.statements = {
      alert: db.prepare('SELECT * FROM alerts WHERE id = ?'),
      admittedAlertsSince: db.prepare(
        'SELECT * FROM alerts WHERE model = ? AND kind = ? AND suppressed IS NULL AND created_at > ? ORDER BY created_at',
      ),
      insertAlert: db.prepare(
        `INSERT INTO alerts (id, model, kind, dedup_key, suppressed, created_at)
         VALUES (@id, @model, @kind, @dedupKey, @suppressed, @createdAt)`,
      ),
      setAlertDelivered: db.prepare('UPDATE alerts SET delivered = ? WHERE id = ?'),
    };
  }

  /** An immediate transaction: a second sender waits for the first one's verdict to be written. */
  claimAlert(
    claim: AlertClaim,
    lookbackMs: number,
    decide: (history: AlertLedgerEntry[], now: number) => AlertSuppression | undefined,
  ): AlertLedgerEntry {
    return this.db
      .transaction(() => {
        const existing = this.statements.alert.get(claim.id) as AlertRow | undefined;
        if (existing) return alertEntry(existing);
        const now = this.now();
        const since = new Date(now.getTime() - lookbackMs).toISOString();
        const history = (this.statements.admittedAlertsSince.all(claim.model, claim.kind, since) as AlertRow[]).map(alertEntry);
        const suppressed = decide(history, now.getTime());
        this.statements.insertAlert.run({
          id: claim.id,
          model: claim.model,
          kind: claim.kind,
          dedupKey: claim.dedupKey ?? null,
          suppressed: suppressed ? JSON.stringify(suppressed) : null,
          createdAt: now.toISOString(),
        });
        return alertEntry(this.statements.alert.get(claim.id) as AlertRow);
      })
      .immediate();
  }

  getAlert(id: string): AlertLedgerEntry | undefined {
    const row = this.statements.alert.get(id) as AlertRow | undefined;
    return row && alertEntry(row);
  }

  recordAlertDelivery(id: string, channel: string): void {
    this.db
      .transaction(() => {
        const row = this.statements.alert.get(id) as AlertRow | undefined;
        if (!row) throw new RangeError(`no alert "${id}" in the ledger`);
        const delivered: string[] = JSON.parse(row.delivered);
        if (!delivered.includes(channel)) this.statements.setAlertDelivered.run(JSON.stringify([...delivered, channel]), id);
      })
      .immediate();
  }
}
