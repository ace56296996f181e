/** Table api_keys: per model, the SHA-256 of each key for predict and feedback, by name. */
import type Database from 'better-sqlite3';
import type { ApiKeyInfo } from '../types.ts';
import type { ApiKeyStore } from '../store.ts';
import type { Synchronous } from './synchronous.ts';

interface ApiKeyRow {
  name: string;
  createdAt: string;
  revokedAt: string | null;
}

function apiKeyInfo(row: ApiKeyRow | undefined): ApiKeyInfo | undefined {
  return row && { name: row.name, createdAt: row.createdAt, ...(row.revokedAt === null ? {} : { revokedAt: row.revokedAt }) };
}

export class SqliteApiKeys implements Synchronous<ApiKeyStore> {
  private readonly statements;

  constructor(
    private readonly db: Database.Database,
    private readonly now: () => Date,
  ) {
    this.statements = {
      insertApiKey: db.prepare('INSERT INTO api_keys (model, name, hash, created_at) VALUES (?, ?, ?, ?)'),
      apiKeyNamed: db.prepare('SELECT name, created_at AS createdAt, revoked_at AS revokedAt FROM api_keys WHERE model = ? AND name = ?'),
      revokeApiKey: db.prepare('UPDATE api_keys SET revoked_at = ? WHERE model = ? AND name = ? AND revoked_at IS NULL'),
      apiKeys: db.prepare(
        'SELECT name, created_at AS createdAt, revoked_at AS revokedAt FROM api_keys WHERE model = ? ORDER BY created_at, name',
      ),
      hasApiKeys: db.prepare('SELECT EXISTS (SELECT 1 FROM api_keys WHERE model = ?)').pluck(),
      activeApiKey: db.prepare('SELECT name FROM api_keys WHERE model = ? AND hash = ? AND revoked_at IS NULL').pluck(),
    };
  }

  addApiKey(model: string, name: string, hash: string): boolean {
    return this.db
      .transaction(() => {
        if (this.statements.apiKeyNamed.get(model, name)) return false;
        this.statements.insertApiKey.run(model, name, hash, this.now().toISOString());
        return true;
      })
      .immediate();
  }

  revokeApiKey(model: string, name: string): ApiKeyInfo | undefined {
    this.statements.revokeApiKey.run(this.now().toISOString(), model, name);
    return apiKeyInfo(this.statements.apiKeyNamed.get(model, name) as ApiKeyRow | undefined);
  }

  listApiKeys(model: string): ApiKeyInfo[] {
    return (this.statements.apiKeys.all(model) as ApiKeyRow[]).map((r) => apiKeyInfo(r)!);
  }

  requiresApiKey(model: string): boolean {
    return this.statements.hasApiKeys.get(model) === 1;
  }

  apiKeyName(model: string, hash: string): string | undefined {
    return this.statements.activeApiKey.get(model, hash) as string | undefined;
  }
}
