/**
 * Who may sign in to the console: a YAML file of reviewer names and their secret tokens,
 *
 *     reviewers:
 *       ana: <a random token of at least 16 characters>
 *
 * named by PERENNIAL_CONSOLE_REVIEWERS_FILE. The tokens stay in this process: they are never
 * sent to a workflow, logged or written to MLflow; only the name goes into a review. Signing in
 * proves the name; the spec's `approval.reviewers` still decides whether that name may review.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { formatIssues } from '../core/spec.ts';

/** The reviewers file cannot be read or does not validate; the message names the file and the field. */
export class ReviewersFileError extends Error {
  override name = 'ReviewersFileError';
}

export const MIN_TOKEN_LENGTH = 16;

const ReviewersFile = z.strictObject({
  reviewers: z.record(
    z.string().trim().min(1, 'a reviewer name is empty'),
    z.string().min(MIN_TOKEN_LENGTH, `a token must be at least ${MIN_TOKEN_LENGTH} characters (use a random one)`),
  ),
});

/** Hashing gives equal lengths, which timingSafeEqual needs, without leaking a token's length. */
const digest = (text: string) => createHash('sha256').update(text).digest();

export class Reviewers {
  /** Name to the SHA-256 of its token. */
  readonly #digests: Map<string, Buffer>;
  /** Compared against when the name is unknown, so that an unknown name costs what a known one does. */
  readonly #decoy = digest('no such reviewer');

  constructor(tokens: Record<string, string>) {
    this.#digests = new Map(Object.entries(tokens).map(([name, token]) => [name, digest(token)]));
  }

  static fromFile(path: string): Reviewers {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ReviewersFileError(`${path}: cannot read the reviewers file (${(err as Error).message})`);
    }
    let raw: unknown;
    try {
      raw = parseYaml(text);
    } catch (err) {
      throw new ReviewersFileError(`${path}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
    const parsed = ReviewersFile.safeParse(raw);
    if (!parsed.success) throw new ReviewersFileError(`${path} is not a valid reviewers file:\n${formatIssues(parsed.error)}`);
    if (Object.keys(parsed.data.reviewers).length === 0) throw new ReviewersFileError(`${path}: reviewers: names no reviewer`);
    return new Reviewers(parsed.data.reviewers);
  }

  get names(): string[] {
    return [...this.#digests.keys()];
  }

  /** The reviewer's name when `token` is theirs; undefined otherwise. Constant time in the token. */
  verify(name: string, token: string): string | undefined {
    const known = this.#digests.get(name);
    const match = timingSafeEqual(known ?? this.#decoy, digest(token));
    return known && match ? name : undefined;
  }
}
