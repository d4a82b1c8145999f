import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB, UserTable } from '../../store/index.js';
import { hashPassword, type ScryptParams } from './passwords.js';
import { ROLE_SCOPE, ROLES, isRole, type Role, type User } from './roles.js';

/** A problem with an account request, named precisely (shown to the operator or the CLI user). */
export class AccountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccountError';
  }
}

export interface NewUser {
  username: string;
  displayName?: string;
  role: Role;
  cmoId?: string | null;
  licenseeId?: string | null;
  holderId?: string | null;
  iin?: string | null;
  /** Null: no password login (the person logs in through an external identity provider). */
  password: string | null;
  locale?: string | null;
}

export interface Session {
  id: string;
  userId: string;
  csrfToken: string;
  authMethod: string;
  createdAtMs: number;
  lastSeenMs: number;
  expiresAtMs: number;
}

export interface ApiToken {
  id: string;
  userId: string;
  name: string;
  createdAtMs: number;
  lastUsedMs: number | null;
  expiresAtMs: number | null;
  revokedAtMs: number | null;
}

const USERNAME = /^[a-z0-9][a-z0-9._@-]{1,63}$/;

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function secret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

function toUser(r: UserTable): User {
  return {
    id: r.id,
    username: r.username,
    displayName: r.display_name,
    role: r.role as Role,
    cmoId: r.cmo_id,
    licenseeId: r.licensee_id,
    holderId: r.holder_id,
    iin: r.iin,
    locale: r.locale,
    disabled: Number(r.disabled) === 1,
    hasPassword: r.password_hash !== null,
    createdAtMs: Number(r.created_at_ms),
  };
}

/** Users, sessions and API tokens in the store. Secrets (session cookies, tokens) are kept only as SHA-256. */
export class Accounts {
  constructor(
    readonly db: Kysely<DB>,
    private readonly scrypt: ScryptParams,
    private readonly passwordMinLength: number,
    private readonly now: () => number = Date.now,
  ) {}

  // --- users -------------------------------------------------------------------------------------

  async createUser(input: NewUser): Promise<User> {
    const username = input.username.trim().toLowerCase();
    if (!USERNAME.test(username)) {
      throw new AccountError(
        `username must be 2-64 lower-case letters, digits, '.', '_', '@' or '-', got ${JSON.stringify(input.username)}`,
      );
    }
    if (!isRole(input.role))
      throw new AccountError(`role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(input.role)}`);
    const scope = ROLE_SCOPE[input.role];
    const scopes = {
      cmoId: input.cmoId ?? null,
      licenseeId: input.licenseeId ?? null,
      holderId: input.holderId ?? null,
    };
    for (const key of ['cmoId', 'licenseeId', 'holderId'] as const) {
      if (key === scope && !scopes[key])
        throw new AccountError(`a ${input.role} account needs ${key} (whom it acts for)`);
      if (key !== scope && scopes[key]) throw new AccountError(`a ${input.role} account cannot have ${key}`);
    }
    await this.checkScopeExists(input.role, scopes);
    if (await this.db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirst()) {
      throw new AccountError(`username ${username} is taken`);
    }
    const iin = input.iin?.trim() || null;
    if (iin !== null && !/^\d{12}$/.test(iin))
      throw new AccountError(`IIN must be 12 digits, got ${JSON.stringify(input.iin)}`);
    const passwordHash = input.password === null ? null : await this.hashChecked(input.password);
    const row: UserTable = {
      id: `u-${randomBytes(8).toString('hex')}`,
      username,
      display_name: input.displayName?.trim() || username,
      role: input.role,
      cmo_id: scopes.cmoId,
      licensee_id: scopes.licenseeId,
      holder_id: scopes.holderId,
      iin,
      password_hash: passwordHash,
      locale: input.locale ?? null,
      disabled: 0,
      created_at_ms: this.now(),
    };
    await this.db.insertInto('users').values(row).execute();
    return toUser(row);
  }

  private async checkScopeExists(
    role: Role,
    s: { cmoId: string | null; licenseeId: string | null; holderId: string | null },
  ): Promise<void> {
    if (
      s.cmoId &&
      !(await this.db.selectFrom('cmos').select('id').where('id', '=', s.cmoId).executeTakeFirst())
    ) {
      throw new AccountError(`${role}: no CMO with id ${s.cmoId}`);
    }
    if (
      s.licenseeId &&
      !(await this.db.selectFrom('licensees').select('id').where('id', '=', s.licenseeId).executeTakeFirst())
    ) {
      throw new AccountError(`${role}: no licensee with id ${s.licenseeId}`);
    }
    if (
      s.holderId &&
      !(await this.db
        .selectFrom('rights_holders')
        .select('id')
        .where('id', '=', s.holderId)
        .executeTakeFirst())
    ) {
      throw new AccountError(`${role}: no rights holder with id ${s.holderId}`);
    }
  }

  private async hashChecked(password: string): Promise<string> {
    if (password.length < this.passwordMinLength) {
      throw new AccountError(`password must have at least ${this.passwordMinLength} characters`);
    }
    return hashPassword(password, this.scrypt);
  }

  async setPassword(userId: string, password: string): Promise<void> {
    const hash = await this.hashChecked(password);
    const r = await this.db
      .updateTable('users')
      .set({ password_hash: hash })
      .where('id', '=', userId)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw new AccountError(`no user with id ${userId}`);
    // a new password ends every other way in
    await this.db.deleteFrom('sessions').where('user_id', '=', userId).execute();
  }

  /** Stores a rehash made at login with stronger parameters (no session change). */
  async upgradeHash(userId: string, hash: string): Promise<void> {
    await this.db.updateTable('users').set({ password_hash: hash }).where('id', '=', userId).execute();
  }

  async setDisabled(userId: string, disabled: boolean): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ disabled: disabled ? 1 : 0 })
      .where('id', '=', userId)
      .execute();
    if (disabled) await this.db.deleteFrom('sessions').where('user_id', '=', userId).execute();
  }

  async setLocale(userId: string, locale: string): Promise<void> {
    await this.db.updateTable('users').set({ locale }).where('id', '=', userId).execute();
  }

  async getUser(id: string): Promise<User | null> {
    const r = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toUser(r) : null;
  }

  async findByUsername(username: string): Promise<{ user: User; passwordHash: string | null } | null> {
    const r = await this.db
      .selectFrom('users')
      .selectAll()
      .where('username', '=', username.trim().toLowerCase())
      .executeTakeFirst();
    return r ? { user: toUser(r), passwordHash: r.password_hash } : null;
  }

  async findByIin(iin: string): Promise<User | null> {
    const r = await this.db.selectFrom('users').selectAll().where('iin', '=', iin).executeTakeFirst();
    return r ? toUser(r) : null;
  }

  async listUsers(): Promise<User[]> {
    return (await this.db.selectFrom('users').selectAll().orderBy('username').execute()).map(toUser);
  }

  // --- sessions ----------------------------------------------------------------------------------

  /** Opens a session; returns the cookie secret (shown once) and the session. */
  async openSession(
    userId: string,
    authMethod: string,
    maxAgeMs: number,
    client: { ip: string | null; userAgent: string | null },
  ): Promise<{ cookieSecret: string; session: Session }> {
    const cookieSecret = secret();
    const now = this.now();
    const session: Session = {
      id: sha256Hex(cookieSecret),
      userId,
      csrfToken: secret(24),
      authMethod,
      createdAtMs: now,
      lastSeenMs: now,
      expiresAtMs: now + maxAgeMs,
    };
    await this.db
      .insertInto('sessions')
      .values({
        id: session.id,
        user_id: userId,
        csrf_token: session.csrfToken,
        auth_method: authMethod,
        created_at_ms: now,
        last_seen_ms: now,
        expires_at_ms: session.expiresAtMs,
        ip: client.ip,
        user_agent: client.userAgent?.slice(0, 300) ?? null,
      })
      .execute();
    return { cookieSecret, session };
  }

  /**
   * The live session a cookie secret opens, with its (enabled) user; null when unknown, expired or idle
   * too long (then it is deleted). Refreshes last-seen at most once a minute.
   */
  async resumeSession(
    cookieSecret: string,
    idleMs: number,
  ): Promise<{ session: Session; user: User } | null> {
    const id = sha256Hex(cookieSecret);
    const r = await this.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) return null;
    const now = this.now();
    if (Number(r.expires_at_ms) <= now || Number(r.last_seen_ms) + idleMs <= now) {
      await this.db.deleteFrom('sessions').where('id', '=', id).execute();
      return null;
    }
    const user = await this.getUser(r.user_id);
    if (!user || user.disabled) return null;
    if (now - Number(r.last_seen_ms) > 60_000) {
      await this.db.updateTable('sessions').set({ last_seen_ms: now }).where('id', '=', id).execute();
    }
    return {
      session: {
        id,
        userId: r.user_id,
        csrfToken: r.csrf_token,
        authMethod: r.auth_method,
        createdAtMs: Number(r.created_at_ms),
        lastSeenMs: Number(r.last_seen_ms),
        expiresAtMs: Number(r.expires_at_ms),
      },
      user,
    };
  }

  async closeSession(sessionId: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id', '=', sessionId).execute();
  }

  async purgeExpiredSessions(idleMs: number): Promise<number> {
    const now = this.now();
    const r = await this.db
      .deleteFrom('sessions')
      .where((eb) => eb.or([eb('expires_at_ms', '<=', now), eb('last_seen_ms', '<=', now - idleMs)]))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  // --- API tokens --------------------------------------------------------------------------------

  /** Issues a token for a user; the plain token is returned once and never stored. */
  async issueToken(
    userId: string,
    name: string,
    expiresAtMs: number | null = null,
  ): Promise<{ token: string; info: ApiToken }> {
    const user = await this.getUser(userId);
    if (!user) throw new AccountError(`no user with id ${userId}`);
    if (!name.trim()) throw new AccountError('a token needs a name (what uses it)');
    const id = `t-${randomBytes(6).toString('hex')}`;
    const token = `tyd_${id.slice(2)}_${secret()}`;
    const info: ApiToken = {
      id,
      userId,
      name: name.trim(),
      createdAtMs: this.now(),
      lastUsedMs: null,
      expiresAtMs,
      revokedAtMs: null,
    };
    await this.db
      .insertInto('api_tokens')
      .values({
        id,
        user_id: userId,
        name: info.name,
        token_hash: sha256Hex(token),
        created_at_ms: info.createdAtMs,
        last_used_ms: null,
        expires_at_ms: expiresAtMs,
        revoked_at_ms: null,
      })
      .execute();
    return { token, info };
  }

  /** The user a bearer token acts as; null for an unknown, revoked or expired token or a disabled user. */
  async resolveToken(token: string): Promise<{ tokenId: string; user: User } | null> {
    const r = await this.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('token_hash', '=', sha256Hex(token))
      .executeTakeFirst();
    const now = this.now();
    if (!r || r.revoked_at_ms !== null || (r.expires_at_ms !== null && Number(r.expires_at_ms) <= now))
      return null;
    const user = await this.getUser(r.user_id);
    if (!user || user.disabled) return null;
    if (r.last_used_ms === null || now - Number(r.last_used_ms) > 60_000) {
      await this.db.updateTable('api_tokens').set({ last_used_ms: now }).where('id', '=', r.id).execute();
    }
    return { tokenId: r.id, user };
  }

  async listTokens(userId?: string): Promise<ApiToken[]> {
    let q = this.db.selectFrom('api_tokens').selectAll().orderBy('created_at_ms');
    if (userId) q = q.where('user_id', '=', userId);
    return (await q.execute()).map((r) => ({
      id: r.id,
      userId: r.user_id,
      name: r.name,
      createdAtMs: Number(r.created_at_ms),
      lastUsedMs: r.last_used_ms === null ? null : Number(r.last_used_ms),
      expiresAtMs: r.expires_at_ms === null ? null : Number(r.expires_at_ms),
      revokedAtMs: r.revoked_at_ms === null ? null : Number(r.revoked_at_ms),
    }));
  }

  async revokeToken(tokenId: string, ownerId?: string): Promise<boolean> {
    let q = this.db
      .updateTable('api_tokens')
      .set({ revoked_at_ms: this.now() })
      .where('id', '=', tokenId)
      .where('revoked_at_ms', 'is', null);
    if (ownerId) q = q.where('user_id', '=', ownerId);
    return Number((await q.executeTakeFirst()).numUpdatedRows) > 0;
  }
}
