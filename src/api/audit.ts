import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../store/index.js';
import type { Principal } from './auth/roles.js';

/** One line of the audit log: who did what to which thing, and when. */
export interface AuditEntry {
  id: string;
  atMs: number;
  actorUserId: string | null;
  actorName: string;
  actorRole: string;
  via: string;
  action: string;
  subjectKind: string;
  subjectId: string;
  detail: Record<string, unknown>;
  ip: string | null;
}

export interface AuditActor {
  userId: string | null;
  name: string;
  role: string;
  via: 'session' | 'token' | 'cli' | 'system';
  ip?: string | null;
}

/** The audit actor of a request (the public when nobody is logged in: such requests are refused later). */
export function actorOf(p: Principal | null, ip: string | null): AuditActor {
  if (!p) return { userId: null, name: '(public)', role: 'public', via: 'session', ip };
  return { userId: p.user.id, name: p.user.username, role: p.user.role, via: p.via, ip };
}

/** The append-only audit log. Ids sort by time (zero-padded ms, then random), on SQLite and PostgreSQL alike. */
export class AuditLog {
  constructor(
    readonly db: Kysely<DB>,
    private readonly now: () => number = Date.now,
  ) {}

  async record(
    actor: AuditActor,
    action: string,
    subject: { kind: string; id: string },
    detail: Record<string, unknown> = {},
    db: Kysely<DB> = this.db,
  ): Promise<AuditEntry> {
    const atMs = this.now();
    const entry: AuditEntry = {
      id: `${String(atMs).padStart(15, '0')}-${randomBytes(5).toString('hex')}`,
      atMs,
      actorUserId: actor.userId,
      actorName: actor.name,
      actorRole: actor.role,
      via: actor.via,
      action,
      subjectKind: subject.kind,
      subjectId: subject.id,
      detail,
      ip: actor.ip ?? null,
    };
    await db
      .insertInto('audit_log')
      .values({
        id: entry.id,
        at_ms: atMs,
        actor_user_id: entry.actorUserId,
        actor_name: entry.actorName,
        actor_role: entry.actorRole,
        via: entry.via,
        action,
        subject_kind: subject.kind,
        subject_id: subject.id,
        detail_json: JSON.stringify(detail),
        ip: entry.ip,
      })
      .execute();
    return entry;
  }

  /** Entries about one thing, oldest first. */
  async about(kind: string, id: string): Promise<AuditEntry[]> {
    const rows = await this.db
      .selectFrom('audit_log')
      .selectAll()
      .where('subject_kind', '=', kind)
      .where('subject_id', '=', id)
      .orderBy('id')
      .execute();
    return rows.map(toEntry);
  }

  /** The latest entry about each of the things, by id. */
  async latestAbout(kind: string, ids: readonly string[]): Promise<Map<string, AuditEntry>> {
    const out = new Map<string, AuditEntry>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.db
        .selectFrom('audit_log')
        .selectAll()
        .where('subject_kind', '=', kind)
        .where('subject_id', 'in', ids.slice(i, i + 500))
        .orderBy('id')
        .execute();
      for (const r of rows) out.set(r.subject_id, toEntry(r));
    }
    return out;
  }

  async list(opts: {
    actorUserId?: string;
    action?: string;
    limit: number;
    offset: number;
  }): Promise<AuditEntry[]> {
    let q = this.db
      .selectFrom('audit_log')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(opts.limit)
      .offset(opts.offset);
    if (opts.actorUserId) q = q.where('actor_user_id', '=', opts.actorUserId);
    if (opts.action) q = q.where('action', '=', opts.action);
    return (await q.execute()).map(toEntry);
  }
}

function toEntry(r: DB['audit_log']): AuditEntry {
  return {
    id: r.id,
    atMs: Number(r.at_ms),
    actorUserId: r.actor_user_id,
    actorName: r.actor_name,
    actorRole: r.actor_role,
    via: r.via,
    action: r.action,
    subjectKind: r.subject_kind,
    subjectId: r.subject_id,
    detail: JSON.parse(r.detail_json) as Record<string, unknown>,
    ip: r.ip,
  };
}
