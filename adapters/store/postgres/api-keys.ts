/** Table api_keys: per model, the SHA-256 of each key for predict and feedback, by name. */
import type pg from 'pg';
import type { ApiKeyInfo } from '../types.ts';
import type { ApiKeyStore } from '../store.ts';

interface ApiKeyRow {
  name: string;
  createdAt: string;
  revokedAt: string | null;
}

const KEY_INFO = 'SELECT name, created_at AS "createdAt", revoked_at AS "revokedAt" FROM api_keys';

function apiKeyInfo(row: ApiKeyRow): ApiKeyInfo {
  return { name: row.name, createdAt: row.createdAt, ...(row.revokedAt === null ? {} : { revokedAt: row.revokedAt }) };
}

export class PostgresApiKeys implements ApiKeyStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly now: () => Date,
  ) {}

  /** One statement: of two adding the same name at once, one wins and the other is told false. */
  async addApiKey(model: string, name: string, hash: string): Promise<boolean> {
    const inserted = await this.pool.query(
      'INSERT INTO api_keys (model, name, hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (model, name) DO NOTHING',
      [model, name, hash, this.now().toISOString()],
    );
    return inserted.rowCount === 1;
  }

  async revokeApiKey(model: string, name: string): Promise<ApiKeyInfo | undefined> {
    await this.pool.query('UPDATE api_keys SET revoked_at = $1 WHERE model = $2 AND name = $3 AND revoked_at IS NULL', [
      this.now().toISOString(),
      model,
      name,
    ]);
    const { rows } = await this.pool.query<ApiKeyRow>(`${KEY_INFO} WHERE model = $1 AND name = $2`, [model, name]);
    return rows[0] && apiKeyInfo(rows[0]);
  }

  async listApiKeys(model: string): Promise<ApiKeyInfo[]> {
    const { rows } = await this.pool.query<ApiKeyRow>(`${KEY_INFO} WHERE model = $1 ORDER BY created_at, name`, [model]);
    return rows.map(apiKeyInfo);
  }

  async requiresApiKey(model: string): Promise<boolean> {
    const { rows } = await this.pool.query('SELECT EXISTS (SELECT 1 FROM api_keys WHERE model = $1) AS required', [model]);
    return rows[0].required;
  }

  async apiKeyName(model: string, hash: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ name: string }>(
      'SELECT name FROM api_keys WHERE model = $1 AND hash = $2 AND revoked_at IS NULL',
      [model, hash],
    );
    return rows[0]?.name;
  }
}
