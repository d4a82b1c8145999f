import type { Kysely } from 'kysely';
import type { ChannelStateTable, DB } from '../store/index.js';
import type { GapChange } from './gaps.js';
import { formatSource, sourceFromJson } from './source.js';
import type {
  AiredDetection,
  Channel,
  ChannelKind,
  GapReason,
  MonitoringGap,
  PendingDetection,
} from './types.js';

/** The monitor's tables behind domain types: channels, gaps, pending and final detections, runner state. */
export class MonitorRepository {
  constructor(readonly db: Kysely<DB>) {}

  // --- channels ----------------------------------------------------------------------------------

  async listChannels(opts: { enabledOnly?: boolean } = {}): Promise<Channel[]> {
    let q = this.db.selectFrom('channels').selectAll().orderBy('id');
    if (opts.enabledOnly) q = q.where('enabled', '=', 1);
    return (await q.execute()).map(channelFromRow);
  }

  async getChannel(id: string): Promise<Channel | null> {
    const row = await this.db.selectFrom('channels').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? channelFromRow(row) : null;
  }

  /** Inserts or replaces (keeping the original creation time). */
  async saveChannel(ch: Channel): Promise<void> {
    const values = {
      id: ch.id,
      name: ch.name,
      broadcaster_id: ch.broadcasterId,
      kind: ch.kind,
      time_zone: ch.timeZone,
      sources_json: JSON.stringify(ch.sources.map(formatSource)),
      latency_ms: Math.round(ch.latencySec * 1000),
      enabled: ch.enabled ? 1 : 0,
      created_at_ms: ch.createdAtMs,
    };
    const { created_at_ms: _c, id: _i, ...update } = values;
    await this.db
      .insertInto('channels')
      .values(values)
      .onConflict((oc) => oc.column('id').doUpdateSet(update))
      .execute();
  }

  async setEnabled(id: string, enabled: boolean): Promise<boolean> {
    const r = await this.db
      .updateTable('channels')
      .set({ enabled: enabled ? 1 : 0 })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async removeChannel(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('channels').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  // --- gaps --------------------------------------------------------------------------------------

  async applyGapChanges(changes: GapChange[], nowMs: number): Promise<void> {
    for (const c of changes) {
      const g = c.gap;
      if (c.type === 'discard') {
        await this.db.deleteFrom('monitoring_gaps').where('id', '=', g.id).execute();
        continue;
      }
      await this.db
        .insertInto('monitoring_gaps')
        .values({
          id: g.id,
          channel_id: g.channelId,
          start_ms: g.startMs,
          end_ms: g.endMs,
          reason: g.reason,
          detail: g.detail,
          created_at_ms: nowMs,
        })
        .onConflict((oc) => oc.column('id').doUpdateSet({ end_ms: g.endMs, detail: g.detail }))
        .execute();
    }
  }

  async openGap(channelId: string): Promise<MonitoringGap | null> {
    const row = await this.db
      .selectFrom('monitoring_gaps')
      .selectAll()
      .where('channel_id', '=', channelId)
      .where('end_ms', 'is', null)
      .orderBy('start_ms', 'desc')
      .executeTakeFirst();
    return row ? gapFromRow(row) : null;
  }

  /** Gaps overlapping [fromMs, toMs), oldest first. */
  async gaps(channelId: string, fromMs: number, toMs: number): Promise<MonitoringGap[]> {
    const rows = await this.db
      .selectFrom('monitoring_gaps')
      .selectAll()
      .where('channel_id', '=', channelId)
      .where('start_ms', '<', toMs)
      .where((eb) => eb.or([eb('end_ms', 'is', null), eb('end_ms', '>', fromMs)]))
      .orderBy('start_ms')
      .execute();
    return rows.map(gapFromRow);
  }

  // --- detections --------------------------------------------------------------------------------

  async pending(channelId: string): Promise<PendingDetection[]> {
    const rows = await this.db
      .selectFrom('open_detections')
      .selectAll()
      .where('channel_id', '=', channelId)
      .orderBy('start_ms')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      channelId: r.channel_id,
      recordingId: r.recording_id,
      startMs: r.start_ms,
      endMs: r.end_ms,
      refStartSec: r.ref_start_sec,
      refEndSec: r.ref_end_sec,
      speed: r.speed,
      confidence: r.confidence,
      state: r.state,
    }));
  }

  /** Replaces the channel's pending detections with `list`. */
  async savePending(channelId: string, list: PendingDetection[], nowMs: number): Promise<void> {
    // one row per id: should two candidates ever share an id (same recording, same start), keep the
    // more confident rather than failing on the key and stalling the channel
    const byId = new Map<string, PendingDetection>();
    for (const d of list) {
      const prev = byId.get(d.id);
      if (!prev || d.confidence > prev.confidence) byId.set(d.id, d);
    }
    list = [...byId.values()];
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('open_detections').where('channel_id', '=', channelId).execute();
      if (list.length === 0) return;
      await trx
        .insertInto('open_detections')
        .values(
          list.map((d) => ({
            id: d.id,
            channel_id: channelId,
            recording_id: d.recordingId,
            start_ms: Math.round(d.startMs),
            end_ms: Math.round(d.endMs),
            ref_start_sec: d.refStartSec,
            ref_end_sec: d.refEndSec,
            speed: d.speed,
            confidence: d.confidence,
            state: d.state,
            updated_at_ms: nowMs,
          })),
        )
        .execute();
    });
  }

  /**
   * Writes a final detection and removes it from the pending ones, in one transaction. A stored
   * detection of the same recording on the channel starting within `duplicateToleranceMs` is the same
   * airing (a replay or a restart found it again): it is updated, never duplicated. Returns the id used.
   */
  async writeFinal(
    det: AiredDetection,
    evidence: { path: string; startMs: number } | null,
    duplicateToleranceMs: number,
    nowMs: number,
  ): Promise<string> {
    return this.db.transaction().execute(async (trx) => {
      const same = await trx
        .selectFrom('detections')
        .select(['id', 'start_ms', 'end_ms', 'evidence_path', 'evidence_start_ms'])
        .where('channel_id', '=', det.channelId)
        .where('recording_id', '=', det.recordingId)
        .where('start_ms', '>=', Math.round(det.startMs - duplicateToleranceMs))
        .where('start_ms', '<=', Math.round(det.startMs + duplicateToleranceMs))
        .executeTakeFirst();
      const id = same?.id ?? det.id;
      const values = {
        id,
        channel_id: det.channelId,
        recording_id: det.recordingId,
        start_ms: Math.round(same ? Math.min(same.start_ms, det.startMs) : det.startMs),
        end_ms: Math.round(same ? Math.max(same.end_ms, det.endMs) : det.endMs),
        ref_start_sec: det.refStartSec,
        ref_end_sec: det.refEndSec,
        speed: det.speed,
        confidence: det.confidence,
        status: 'pending',
        use_type: null,
        evidence_path: evidence?.path ?? same?.evidence_path ?? null,
        evidence_start_ms: evidence ? Math.round(evidence.startMs) : (same?.evidence_start_ms ?? null),
        created_at_ms: nowMs,
      };
      await trx
        .insertInto('detections')
        .values(values)
        .onConflict((oc) =>
          oc.column('id').doUpdateSet({
            start_ms: values.start_ms,
            end_ms: values.end_ms,
            ref_start_sec: values.ref_start_sec,
            ref_end_sec: values.ref_end_sec,
            speed: values.speed,
            confidence: values.confidence,
            evidence_path: values.evidence_path,
            evidence_start_ms: values.evidence_start_ms,
          }),
        )
        .execute();
      await trx.deleteFrom('open_detections').where('id', 'in', [det.id, id]).execute();
      return id;
    });
  }

  async detections(channelId: string, fromMs: number, toMs: number): Promise<AiredDetection[]> {
    const rows = await this.db
      .selectFrom('detections')
      .selectAll()
      .where('channel_id', '=', channelId)
      .where('start_ms', '>=', fromMs)
      .where('start_ms', '<', toMs)
      .orderBy('start_ms')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      channelId: r.channel_id,
      recordingId: r.recording_id,
      startMs: r.start_ms,
      endMs: r.end_ms,
      refStartSec: r.ref_start_sec,
      refEndSec: r.ref_end_sec,
      speed: r.speed,
      confidence: r.confidence,
    }));
  }

  async countDetections(channelId: string, fromMs: number, toMs: number): Promise<number> {
    const row = await this.db
      .selectFrom('detections')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('channel_id', '=', channelId)
      .where('start_ms', '>=', fromMs)
      .where('start_ms', '<', toMs)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Clips that retention must keep: those of detections with an open usage dispute (a broadcaster
   * disputed the airing; src/royalty). Once the dispute is accepted or rejected they age out as usual.
   */
  async disputedClipPaths(): Promise<string[]> {
    const rows = await this.db
      .selectFrom('detections')
      .innerJoin('usage_disputes', 'usage_disputes.detection_id', 'detections.id')
      .select('detections.evidence_path')
      .where('usage_disputes.status', '=', 'open')
      .where('detections.evidence_path', 'is not', null)
      .distinct()
      .execute();
    return rows.map((r) => r.evidence_path!);
  }

  /** Forgets evidence clips that retention deleted. */
  async clearEvidence(paths: string[]): Promise<void> {
    for (let i = 0; i < paths.length; i += 500) {
      await this.db
        .updateTable('detections')
        .set({ evidence_path: null, evidence_start_ms: null })
        .where('evidence_path', 'in', paths.slice(i, i + 500))
        .execute();
    }
  }

  // --- runner state ------------------------------------------------------------------------------

  async state(channelId: string): Promise<ChannelStateTable | null> {
    return (
      (await this.db
        .selectFrom('channel_state')
        .selectAll()
        .where('channel_id', '=', channelId)
        .executeTakeFirst()) ?? null
    );
  }

  async saveState(row: ChannelStateTable): Promise<void> {
    const { channel_id: _id, first_started_ms: _f, ...update } = row;
    await this.db
      .insertInto('channel_state')
      .values(row)
      .onConflict((oc) => oc.column('channel_id').doUpdateSet(update))
      .execute();
  }
}

function channelFromRow(row: {
  id: string;
  name: string;
  broadcaster_id: string | null;
  kind: string;
  time_zone: string;
  sources_json: string;
  latency_ms: number;
  enabled: number;
  created_at_ms: number;
}): Channel {
  let raw: unknown;
  try {
    raw = JSON.parse(row.sources_json);
  } catch {
    throw new Error(`channel ${row.id}: stored sources are not valid JSON`);
  }
  if (!Array.isArray(raw)) throw new Error(`channel ${row.id}: stored sources are not a list`);
  return {
    id: row.id,
    name: row.name,
    broadcasterId: row.broadcaster_id,
    kind: row.kind as ChannelKind,
    timeZone: row.time_zone,
    sources: raw.map((s, i) => sourceFromJson(s, `channel ${row.id} source ${i + 1}`)),
    latencySec: Number(row.latency_ms) / 1000,
    enabled: Number(row.enabled) === 1,
    createdAtMs: Number(row.created_at_ms),
  };
}

function gapFromRow(row: {
  id: string;
  channel_id: string;
  start_ms: number;
  end_ms: number | null;
  reason: string;
  detail: string | null;
}): MonitoringGap {
  return {
    id: row.id,
    channelId: row.channel_id,
    startMs: Number(row.start_ms),
    endMs: row.end_ms === null ? null : Number(row.end_ms),
    reason: row.reason as GapReason,
    detail: row.detail,
  };
}
