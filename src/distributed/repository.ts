import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB, DistCursorTable } from '../store/index.js';
import type { ChannelStitchState } from './stitcher.js';

/** Where the centre stands in one channel's batch sequence. */
export interface ChannelCursor {
  channelId: string;
  spoolId: string;
  nextSeq: number;
  session: string | null;
  nodeId: string | null;
  positionMs: number | null;
  state: ChannelStitchState;
  batchesApplied: number;
  batchesLost: number;
  lastSealedAtMs: number | null;
  updatedAtMs: number;
}

export interface Rejection {
  channelId: string | null;
  nodeId: string | null;
  seq: number | null;
  reason: string;
  detail: string;
  atMs: number;
}

/** The centre's own tables (migration 0300) behind domain types. */
export class DistributedRepository {
  constructor(readonly db: Kysely<DB>) {}

  async cursors(): Promise<ChannelCursor[]> {
    const rows = await this.db.selectFrom('dist_cursors').selectAll().orderBy('channel_id').execute();
    return rows.map(fromRow);
  }

  async saveCursor(c: ChannelCursor): Promise<void> {
    const row: DistCursorTable = {
      channel_id: c.channelId,
      spool_id: c.spoolId,
      next_seq: c.nextSeq,
      session: c.session,
      node_id: c.nodeId,
      position_ms: c.positionMs === null ? null : Math.round(c.positionMs),
      state_json: JSON.stringify(c.state),
      batches_applied: c.batchesApplied,
      batches_lost: c.batchesLost,
      last_sealed_at_ms: c.lastSealedAtMs,
      updated_at_ms: Math.round(c.updatedAtMs),
    };
    const { channel_id: _id, ...update } = row;
    await this.db
      .insertInto('dist_cursors')
      .values(row)
      .onConflict((oc) => oc.column('channel_id').doUpdateSet(update))
      .execute();
  }

  async addRejection(r: Rejection): Promise<void> {
    await this.db
      .insertInto('dist_rejections')
      .values({
        id: randomUUID(),
        channel_id: r.channelId,
        node_id: r.nodeId,
        seq: r.seq,
        reason: r.reason,
        detail: r.detail.slice(0, 2000),
        at_ms: Math.round(r.atMs),
      })
      .execute();
  }

  /** Rejections counted by reason since `sinceMs`. */
  async rejectionCounts(sinceMs = 0): Promise<Record<string, number>> {
    const rows = await this.db
      .selectFrom('dist_rejections')
      .select(['reason', (eb) => eb.fn.countAll().as('n')])
      .where('at_ms', '>=', sinceMs)
      .groupBy('reason')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.reason, Number(r.n)]));
  }

  async rejections(limit = 50): Promise<Rejection[]> {
    const rows = await this.db
      .selectFrom('dist_rejections')
      .selectAll()
      .orderBy('at_ms', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      channelId: r.channel_id,
      nodeId: r.node_id,
      seq: r.seq === null ? null : Number(r.seq),
      reason: r.reason,
      detail: r.detail,
      atMs: Number(r.at_ms),
    }));
  }
}

function fromRow(r: DistCursorTable): ChannelCursor {
  let state: ChannelStitchState;
  try {
    state = JSON.parse(r.state_json) as ChannelStitchState;
  } catch {
    throw new Error(`dist_cursors ${r.channel_id}: the stitcher checkpoint is not valid JSON`);
  }
  return {
    channelId: r.channel_id,
    spoolId: r.spool_id,
    nextSeq: Number(r.next_seq),
    session: r.session,
    nodeId: r.node_id,
    positionMs: r.position_ms === null ? null : Number(r.position_ms),
    state,
    batchesApplied: Number(r.batches_applied),
    batchesLost: Number(r.batches_lost),
    lastSealedAtMs: r.last_sealed_at_ms === null ? null : Number(r.last_sealed_at_ms),
    updatedAtMs: Number(r.updated_at_ms),
  };
}
