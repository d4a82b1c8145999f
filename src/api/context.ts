import { resolve, sep } from 'node:path';
import type { Kysely } from 'kysely';
import { CatalogRepository } from '../catalog/index.js';
import type { ReferenceIndex } from '../index/index.js';
import { MonitorRepository, type ChannelHealth } from '../monitor/index.js';
import { RoyaltyRepository } from '../royalty/index.js';
import type { DB, Store } from '../store/index.js';
import { Scope } from './access.js';
import { AuditLog } from './audit.js';
import { Accounts } from './auth/accounts.js';
import { LoginLimiter, PasswordIdentityProvider, type IdentityProvider } from './auth/identity.js';
import { apiConfig, type ApiConfig } from './config.js';

/** What builds a server: the store and, optionally, the reference index, evidence and upload folders. */
export interface ServerOptions {
  store: Store;
  config?: Partial<ApiConfig>;
  /** The reference index: enrolment uploads go into it; reference audio is found through it. */
  index?: ReferenceIndex | null;
  /** Folders the monitor writes evidence clips to; clips elsewhere are not served. Empty: any path the monitor stored. */
  evidenceDirs?: string[];
  /** Where uploaded reference audio is kept (enrolment); null: uploads are refused. */
  uploadDir?: string | null;
  /** Extra identity providers (digital signature, eGov); the password provider is always there. */
  identityProviders?: Array<(ctx: AppContext) => IdentityProvider>;
  /** A monitor running in this process: live channel health overlays what the store says. */
  liveHealth?: (channelId: string) => ChannelHealth | null;
  /** The server's clock (UTC ms). */
  now?: () => number;
  /** pino logging: false (default for tests) or a level. */
  logLevel?: false | 'debug' | 'info' | 'warn' | 'error';
}

/** Everything a route needs, built once per server (no module-level state). */
export interface AppContext {
  store: Store;
  db: Kysely<DB>;
  config: ApiConfig;
  now: () => number;
  accounts: Accounts;
  audit: AuditLog;
  scope: Scope;
  catalog: CatalogRepository;
  royalty: RoyaltyRepository;
  monitor: MonitorRepository;
  index: ReferenceIndex | null;
  evidenceDirs: string[];
  uploadDir: string | null;
  identity: Map<string, IdentityProvider>;
  limiter: LoginLimiter;
  liveHealth: (channelId: string) => ChannelHealth | null;
}

export function buildContext(opts: ServerOptions): AppContext {
  const config = apiConfig(opts.config);
  const now = opts.now ?? Date.now;
  const db = opts.store.db;
  const scrypt = { N: config.scryptN, r: config.scryptR, p: config.scryptP };
  const accounts = new Accounts(db, scrypt, config.passwordMinLength, now);
  const ctx: AppContext = {
    store: opts.store,
    db,
    config,
    now,
    accounts,
    audit: new AuditLog(db, now),
    scope: new Scope(db),
    catalog: new CatalogRepository(db, now),
    royalty: new RoyaltyRepository(opts.store, now),
    monitor: new MonitorRepository(db),
    index: opts.index ?? null,
    evidenceDirs: (opts.evidenceDirs ?? []).map((d) => resolve(d)),
    uploadDir: opts.uploadDir ? resolve(opts.uploadDir) : null,
    identity: new Map(),
    limiter: new LoginLimiter(
      config.loginFailuresPerIp,
      config.loginFailuresPerUser,
      config.loginWindowMs,
      now,
    ),
    liveHealth: opts.liveHealth ?? (() => null),
  };
  const providers = [
    new PasswordIdentityProvider(accounts, scrypt),
    ...(opts.identityProviders ?? []).map((f) => f(ctx)),
  ];
  for (const p of providers) {
    if (!/^[a-z][a-z0-9-]{1,30}$/.test(p.method))
      throw new Error(`identity provider method "${p.method}" is not a valid path segment`);
    if (ctx.identity.has(p.method)) throw new Error(`two identity providers share the method "${p.method}"`);
    ctx.identity.set(p.method, p);
  }
  return ctx;
}

/** True when `path` is inside one of `roots` (or roots is empty). Guards against stored paths leaving them. */
export function insideRoots(path: string, roots: readonly string[]): boolean {
  if (roots.length === 0) return true;
  const abs = resolve(path);
  return roots.some((r) => abs === r || abs.startsWith(r.endsWith(sep) ? r : r + sep));
}
