import { sql, type Expression, type Kysely, type SqlBool } from 'kysely';
import type { DB } from '../store/index.js';
import type { Principal, Role } from './auth/roles.js';
import { forbidden, notFound, unauthenticated } from './errors.js';

/**
 * Authorisation by role and by ownership, used by every route and page (never by the browser alone).
 *
 * - operator: everything.
 * - cmo_reviewer: the licences of its CMO, the channels of the licensees holding them (their detections
 *   and usage reports), the repertoire its CMO manages (recordings and works whose rights holders gave it
 *   a mandate), the statements of its licences.
 * - registrar: the catalogue.
 * - broadcaster: its own channels (its licensee id is the channels' broadcaster id) and usage reports.
 * - rights_holder: the works and recordings it has a share in or created or performed, their
 *   detections, and its own statements.
 * - capture_node: its licensee's channels' configuration.
 * - no login (public): aggregate statistics only.
 *
 * Things outside a caller's scope answer 404, exactly like things that do not exist, so guessing ids
 * tells nothing. A role that may not use an area at all gets 403.
 */

export type Caller = Principal | null;

export function requireLogin(p: Caller): Principal {
  if (!p) throw unauthenticated();
  return p;
}

export function requireRole(p: Caller, ...roles: Role[]): Principal {
  const who = requireLogin(p);
  if (!roles.includes(who.user.role)) throw forbidden(`this needs one of the roles: ${roles.join(', ')}`);
  return who;
}

export function hasRole(p: Caller, ...roles: Role[]): boolean {
  return p !== null && roles.includes(p.user.role);
}

/**
 * SQL filters that limit a query to what the caller may see. Each returns a boolean expression over a
 * column reference (e.g. `detections.channel_id`), or `null` when the caller sees everything, or throws
 * 403 when the role has no business in the area.
 */
export class Scope {
  constructor(readonly db: Kysely<DB>) {}

  /** Channels a broadcaster owns. */
  private licenseeChannels(licenseeId: string) {
    return this.db
      .selectFrom('channels')
      .select('channels.id')
      .where('channels.broadcaster_id', '=', licenseeId);
  }

  /** Channels of licensees that hold (or held) a licence with the CMO. */
  private cmoChannels(cmoId: string) {
    return this.db
      .selectFrom('channels')
      .select('channels.id')
      .where(
        'channels.broadcaster_id',
        'in',
        this.db.selectFrom('licences').select('licences.licensee_id').where('licences.cmo_id', '=', cmoId),
      );
  }

  /** Works a holder created or holds a share of. */
  holderWorks(holderId: string) {
    return this.db
      .selectFrom('work_creators')
      .select('work_creators.work_id as id')
      .where('work_creators.holder_id', '=', holderId)
      .union(
        this.db
          .selectFrom('shares')
          .select('shares.subject_id as id')
          .where('shares.subject_kind', '=', 'work')
          .where('shares.holder_id', '=', holderId),
      );
  }

  /** Recordings a holder performed, produced or holds a share of, or that carry one of its works. */
  holderRecordings(holderId: string) {
    return this.db
      .selectFrom('recording_contributors')
      .select('recording_contributors.recording_id as id')
      .where('recording_contributors.holder_id', '=', holderId)
      .union(
        this.db
          .selectFrom('shares')
          .select('shares.subject_id as id')
          .where('shares.subject_kind', '=', 'recording')
          .where('shares.holder_id', '=', holderId),
      )
      .union(
        this.db
          .selectFrom('recording_works')
          .select('recording_works.recording_id as id')
          .where('recording_works.work_id', 'in', this.holderWorks(holderId)),
      );
  }

  /** Holders that gave the CMO a mandate. */
  private cmoHolders(cmoId: string) {
    return this.db.selectFrom('mandates').select('mandates.holder_id').where('mandates.cmo_id', '=', cmoId);
  }

  /** Recordings in a CMO's repertoire: a share (of the recording or of one of its works) by a mandating holder. */
  cmoRecordings(cmoId: string) {
    const holders = this.cmoHolders(cmoId);
    return this.db
      .selectFrom('shares')
      .select('shares.subject_id as id')
      .where('shares.subject_kind', '=', 'recording')
      .where('shares.holder_id', 'in', holders)
      .union(
        this.db
          .selectFrom('recording_works')
          .select('recording_works.recording_id as id')
          .where(
            'recording_works.work_id',
            'in',
            this.db
              .selectFrom('shares')
              .select('shares.subject_id')
              .where('shares.subject_kind', '=', 'work')
              .where('shares.holder_id', 'in', this.cmoHolders(cmoId)),
          ),
      );
  }

  cmoWorks(cmoId: string) {
    return this.db
      .selectFrom('shares')
      .select('shares.subject_id as id')
      .where('shares.subject_kind', '=', 'work')
      .where('shares.holder_id', 'in', this.cmoHolders(cmoId));
  }

  /** Channels: operator all; reviewer its CMO's licensees'; broadcaster and capture node their own. */
  channels(p: Caller, column: string): Expression<SqlBool> | null {
    const who = requireRole(p, 'operator', 'cmo_reviewer', 'broadcaster', 'capture_node');
    const col = sql.ref(column);
    switch (who.user.role) {
      case 'operator':
        return null;
      case 'cmo_reviewer':
        return sql<SqlBool>`${col} in (${this.cmoChannels(who.user.cmoId!)})`;
      default:
        return sql<SqlBool>`${col} in (${this.licenseeChannels(who.user.licenseeId!)})`;
    }
  }

  /** Detections, by their channel and recording columns. */
  detections(p: Caller, channelColumn: string, recordingColumn: string): Expression<SqlBool> | null {
    const who = requireRole(p, 'operator', 'cmo_reviewer', 'broadcaster', 'rights_holder');
    if (who.user.role === 'rights_holder') {
      return sql<SqlBool>`${sql.ref(recordingColumn)} in (${this.holderRecordings(who.user.holderId!)})`;
    }
    return this.channels(p, channelColumn);
  }

  /** Recordings: registrar and operator all; reviewer its repertoire; rights holder its own. */
  recordings(p: Caller, column: string): Expression<SqlBool> | null {
    const who = requireRole(p, 'operator', 'registrar', 'cmo_reviewer', 'rights_holder');
    const col = sql.ref(column);
    switch (who.user.role) {
      case 'cmo_reviewer':
        return sql<SqlBool>`${col} in (${this.cmoRecordings(who.user.cmoId!)})`;
      case 'rights_holder':
        return sql<SqlBool>`${col} in (${this.holderRecordings(who.user.holderId!)})`;
      default:
        return null;
    }
  }

  works(p: Caller, column: string): Expression<SqlBool> | null {
    const who = requireRole(p, 'operator', 'registrar', 'cmo_reviewer', 'rights_holder');
    const col = sql.ref(column);
    switch (who.user.role) {
      case 'cmo_reviewer':
        return sql<SqlBool>`${col} in (${this.cmoWorks(who.user.cmoId!)})`;
      case 'rights_holder':
        return sql<SqlBool>`${col} in (${this.holderWorks(who.user.holderId!)})`;
      default:
        return null;
    }
  }

  /** Licences (and tariffs through them): operator all; reviewer its CMO's; broadcaster its own. */
  licences(p: Caller, cmoColumn: string, licenseeColumn: string): Expression<SqlBool> | null {
    const who = requireRole(p, 'operator', 'cmo_reviewer', 'broadcaster');
    if (who.user.role === 'cmo_reviewer') return sql<SqlBool>`${sql.ref(cmoColumn)} = ${who.user.cmoId}`;
    if (who.user.role === 'broadcaster')
      return sql<SqlBool>`${sql.ref(licenseeColumn)} = ${who.user.licenseeId}`;
    return null;
  }

  /** Whether the caller may see this one channel (404 otherwise). */
  async assertChannel(p: Caller, channelId: string): Promise<void> {
    const filter = this.channels(p, 'channels.id');
    let q = this.db.selectFrom('channels').select('channels.id').where('channels.id', '=', channelId);
    if (filter) q = q.where(filter);
    if (!(await q.executeTakeFirst())) throw notFound(`channel ${channelId}`);
  }

  async assertDetection(p: Caller, detectionId: string): Promise<void> {
    const filter = this.detections(p, 'detections.channel_id', 'detections.recording_id');
    let q = this.db.selectFrom('detections').select('detections.id').where('detections.id', '=', detectionId);
    if (filter) q = q.where(filter);
    if (!(await q.executeTakeFirst())) throw notFound(`detection ${detectionId}`);
  }

  async assertRecording(p: Caller, recordingId: string): Promise<void> {
    const filter = this.recordings(p, 'recordings.id');
    let q = this.db.selectFrom('recordings').select('recordings.id').where('recordings.id', '=', recordingId);
    if (filter) q = q.where(filter);
    if (!(await q.executeTakeFirst())) throw notFound(`recording ${recordingId}`);
  }

  async assertWork(p: Caller, workId: string): Promise<void> {
    const filter = this.works(p, 'works.id');
    let q = this.db.selectFrom('works').select('works.id').where('works.id', '=', workId);
    if (filter) q = q.where(filter);
    if (!(await q.executeTakeFirst())) throw notFound(`work ${workId}`);
  }

  /** A licensee's usage: operator all; reviewer if the licensee holds a licence of its CMO; broadcaster itself. */
  async assertLicensee(p: Caller, licenseeId: string): Promise<void> {
    const who = requireRole(p, 'operator', 'cmo_reviewer', 'broadcaster');
    let ok = false;
    if (who.user.role === 'operator') {
      ok = !!(await this.db
        .selectFrom('licensees')
        .select('id')
        .where('id', '=', licenseeId)
        .executeTakeFirst());
    } else if (who.user.role === 'broadcaster') {
      ok = who.user.licenseeId === licenseeId;
    } else {
      ok = !!(await this.db
        .selectFrom('licences')
        .select('id')
        .where('licensee_id', '=', licenseeId)
        .where('cmo_id', '=', who.user.cmoId!)
        .executeTakeFirst());
    }
    if (!ok) throw notFound(`licensee ${licenseeId}`);
  }

  /** A rights holder's statements: operator all; reviewer holders mandating its CMO; the holder itself. */
  async assertHolderStatements(p: Caller, holderId: string): Promise<void> {
    const who = requireRole(p, 'operator', 'cmo_reviewer', 'rights_holder');
    let ok = false;
    if (who.user.role === 'operator') {
      ok = !!(await this.db
        .selectFrom('rights_holders')
        .select('id')
        .where('id', '=', holderId)
        .executeTakeFirst());
    } else if (who.user.role === 'rights_holder') {
      ok = who.user.holderId === holderId;
    } else {
      ok = !!(await this.db
        .selectFrom('mandates')
        .select('id')
        .where('holder_id', '=', holderId)
        .where('cmo_id', '=', who.user.cmoId!)
        .executeTakeFirst());
    }
    if (!ok) throw notFound(`rights holder ${holderId}`);
  }
}
