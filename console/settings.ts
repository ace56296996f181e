/**
 * The console process's settings, from the environment:
 *   PERENNIAL_CONSOLE_REVIEWERS_FILE   the reviewers and their tokens (console/reviewers.ts); required
 *   PERENNIAL_CONSOLE_PORT             8090
 *   PERENNIAL_CONSOLE_HOST             127.0.0.1
 *   PERENNIAL_CONSOLE_SECURE_COOKIES   true when the console is reached over HTTPS (a TLS proxy)
 *   TEMPORAL_UI_URL                    where links into the Temporal UI go (http://127.0.0.1:8233)
 *   MLFLOW_UI_URL                      where links into the MLflow UI go (the tracking server's URL)
 * Temporal and MLflow themselves as for the worker and the CLI (config/environment.ts).
 */
import { defaults } from '../config/environment.ts';

export const DEFAULT_CONSOLE_PORT = 8090;

/** A setting that cannot work; the message names the variable. */
export class ConsoleConfigError extends Error {
  override name = 'ConsoleConfigError';
}

export interface ConsoleSettings {
  reviewersFile: string;
  port: number;
  host: string;
  secureCookies: boolean;
  temporalUi: string;
  mlflowUi: string;
}

export function consoleSettings(env = process.env): ConsoleSettings {
  const reviewersFile = env.PERENNIAL_CONSOLE_REVIEWERS_FILE?.trim();
  if (!reviewersFile) {
    throw new ConsoleConfigError(
      'PERENNIAL_CONSOLE_REVIEWERS_FILE is not set: name a YAML file of "reviewers: { <name>: <token> }" (tokens of at least 16 characters)',
    );
  }
  const secure = env.PERENNIAL_CONSOLE_SECURE_COOKIES?.trim() || 'false';
  if (secure !== 'true' && secure !== 'false')
    throw new ConsoleConfigError(`PERENNIAL_CONSOLE_SECURE_COOKIES=${secure}: expected true or false`);
  return {
    reviewersFile,
    port: port(env.PERENNIAL_CONSOLE_PORT),
    host: env.PERENNIAL_CONSOLE_HOST?.trim() || '127.0.0.1',
    secureCookies: secure === 'true',
    temporalUi: url('TEMPORAL_UI_URL', env.TEMPORAL_UI_URL?.trim() || 'http://127.0.0.1:8233'),
    mlflowUi: url('MLFLOW_UI_URL', env.MLFLOW_UI_URL?.trim() || defaults.mlflowUrl()),
  };
}

function port(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return DEFAULT_CONSOLE_PORT;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535)
    throw new ConsoleConfigError(`PERENNIAL_CONSOLE_PORT must be a port number (0-65535, 0 picks a free one), got "${raw}"`);
  return value;
}

function url(variable: string, raw: string): string {
  if (!URL.canParse(raw) || !/^https?:$/.test(new URL(raw).protocol))
    throw new ConsoleConfigError(`${variable}=${raw}: expected an http(s) URL, e.g. http://127.0.0.1:8233`);
  return raw;
}
