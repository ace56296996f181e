/**
 * Signed-in reviewers: a random session id in a cookie (HttpOnly, SameSite=Strict), held in
 * this process's memory with the reviewer's name and a per-session CSRF token that every POST
 * form carries. The login form itself, before any session, is guarded the same way by a nonce
 * cookie and its HMAC in the form. A restart signs everyone out.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'perennial_console';
export const LOGIN_COOKIE = 'perennial_console_login';

export interface Session {
  reviewer: string;
  /** Sent back in every form of this session; a POST without it is refused. */
  csrf: string;
  expiresAt: number;
}

const newSecret = () => randomBytes(32).toString('base64url');

/** Constant-time equality of two strings of any length. */
export function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

export class Sessions {
  readonly #byId = new Map<string, Session>();
  /** Signs login-form nonces; never leaves the process. */
  readonly #loginKey = randomBytes(32);

  constructor(readonly ttlMs: number) {}

  /** A fresh id for every sign-in, so an id seen before signing in is worth nothing after. */
  create(reviewer: string): { id: string; session: Session } {
    this.dropExpired();
    const id = newSecret();
    const session = { reviewer, csrf: newSecret(), expiresAt: Date.now() + this.ttlMs };
    this.#byId.set(id, session);
    return { id, session };
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const session = this.#byId.get(id);
    if (session && session.expiresAt <= Date.now()) {
      this.#byId.delete(id);
      return undefined;
    }
    return session;
  }

  end(id: string | undefined): void {
    if (id) this.#byId.delete(id);
  }

  /** A login form's nonce (for its cookie) and the token its form carries. */
  loginChallenge(): { nonce: string; token: string } {
    const nonce = newSecret();
    return { nonce, token: this.loginToken(nonce) };
  }

  /** Whether a login form's token belongs to the nonce in its cookie. */
  loginTokenValid(nonce: string | undefined, token: string | undefined): boolean {
    return Boolean(nonce && token) && sameSecret(this.loginToken(nonce!), token!);
  }

  private loginToken(nonce: string): string {
    return createHmac('sha256', this.#loginKey).update(nonce).digest('base64url');
  }

  private dropExpired(): void {
    const now = Date.now();
    for (const [id, session] of this.#byId) if (session.expiresAt <= now) this.#byId.delete(id);
  }
}

/** The cookies of a request's Cookie header, by name (the first of a repeated name wins). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name && !cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

/** A Set-Cookie value that scripts cannot read and other sites' pages never send. */
export function cookie(name: string, value: string, options: { maxAgeS: number; secure: boolean }): string {
  return [
    `${name}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${options.maxAgeS}`,
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}
