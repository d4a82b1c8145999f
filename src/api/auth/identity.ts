import { randomBytes } from 'node:crypto';
import type { Accounts } from './accounts.js';
import { hashPassword, hashUsesParams, verifyPassword, type ScryptParams } from './passwords.js';
import type { User } from './roles.js';

/**
 * How a person proves who they are. The web app and the API log people in through a list of identity
 * providers; the built-in one checks a username and password. The national platform will add one that
 * verifies a digital signature (NCALayer / eGov IDP): it receives the signed challenge, checks the
 * certificate chain against the national CA, reads the IIN from the certificate and finds the account
 * whose `iin` matches (Accounts.findByIin). See docs/api.md, "Identity providers".
 */
export interface IdentityProvider {
  /** Path segment and session label: POST /auth/login/{method}; `password` is also POST /auth/login. */
  readonly method: string;
  /** The user the credentials prove, or null when they prove nothing. Never throws for bad credentials. */
  authenticate(credentials: Record<string, string>): Promise<User | null>;
  /** The key that counts failed attempts against one account (e.g. the username), if any. */
  accountKey?(credentials: Record<string, string>): string | null;
}

/** Username and password, checked against the scrypt hash in the users table. */
export class PasswordIdentityProvider implements IdentityProvider {
  readonly method = 'password';
  private decoy: Promise<string> | null = null;

  constructor(
    private readonly accounts: Accounts,
    private readonly params: ScryptParams,
  ) {}

  accountKey(credentials: Record<string, string>): string | null {
    return credentials.username?.trim().toLowerCase() || null;
  }

  async authenticate(credentials: Record<string, string>): Promise<User | null> {
    const username = credentials.username ?? '';
    const password = credentials.password ?? '';
    const found = username ? await this.accounts.findByUsername(username) : null;
    if (!found || found.passwordHash === null || found.user.disabled) {
      // spend the same time as a real check, so timing does not tell which usernames exist
      this.decoy ??= hashPassword(randomBytes(16).toString('hex'), this.params);
      await verifyPassword(password, await this.decoy);
      return null;
    }
    if (!(await verifyPassword(password, found.passwordHash))) return null;
    if (!hashUsesParams(found.passwordHash, this.params)) {
      await this.accounts.upgradeHash(found.user.id, await hashPassword(password, this.params));
    }
    return found.user;
  }
}

/**
 * Counts failed logins per client address and per account in fixed windows, in memory (one process;
 * a cluster would keep these counters in Redis). Successful logins do not count.
 */
export class LoginLimiter {
  private readonly counts = new Map<string, { windowStartMs: number; failures: number }>();

  constructor(
    private readonly perIp: number,
    private readonly perAccount: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds to wait before another attempt, or 0 when allowed. */
  retryAfterMs(ip: string, account: string | null): number {
    const wait = (key: string, max: number): number => {
      const c = this.current(key);
      return c && c.failures >= max ? c.windowStartMs + this.windowMs - this.now() : 0;
    };
    return Math.max(wait(`ip:${ip}`, this.perIp), account ? wait(`acct:${account}`, this.perAccount) : 0);
  }

  fail(ip: string, account: string | null): void {
    for (const key of account ? [`ip:${ip}`, `acct:${account}`] : [`ip:${ip}`]) {
      const c = this.current(key) ?? { windowStartMs: this.now(), failures: 0 };
      c.failures++;
      this.counts.set(key, c);
    }
    if (this.counts.size > 100_000) this.prune();
  }

  private current(key: string): { windowStartMs: number; failures: number } | null {
    const c = this.counts.get(key);
    if (!c) return null;
    if (c.windowStartMs + this.windowMs <= this.now()) {
      this.counts.delete(key);
      return null;
    }
    return c;
  }

  private prune(): void {
    for (const key of [...this.counts.keys()]) this.current(key);
  }
}
