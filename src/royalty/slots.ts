import {
  FULL_SHARE_BP,
  mandateAt,
  sharesAt,
  type Mandate,
  type RightType,
  type Share,
} from '../catalog/index.js';

/**
 * Who gets a right type's money for one airing: the holders' shares in force at the airing's start, each
 * through the mandate it has with the licence's CMO. What has no known holder is a reserve slot with its
 * reason; the money stays undistributed until the data is fixed and the period is accrued again.
 */

export const RESERVE_REASONS = [
  'unknown_recording',
  'no_work_linked',
  'share_conflict',
  'unregistered_share',
  'missing_mandate',
  'no_usage',
] as const;
export type ReserveReason = (typeof RESERVE_REASONS)[number];

export const RESERVE_REASON_TEXT: Record<ReserveReason, string> = {
  unknown_recording: 'the recording is not in the catalogue',
  no_work_linked: 'the recording is linked to no work, so no authors are known',
  share_conflict: 'the shares of this right sum to more than 100 % (a conflict to resolve)',
  unregistered_share: 'part of the shares is not registered to anyone',
  missing_mandate: 'the rights holder has no mandate with this CMO for this right',
  no_usage: 'the minimum fee was due but no airplay was detected in the period',
};

/** What the engine needs to know about a recording's rights. */
export interface RecordingRights {
  recordingId: string;
  known: boolean;
  works: Array<{ workId: string; portionBp: number }>;
  /** Active shares (all right types) keyed by `work:ID` or `recording:ID`. */
  shares: ReadonlyMap<string, readonly Share[]>;
}

export interface Slot {
  weight: bigint;
  holderId: string | null;
  reserveReason: ReserveReason | null;
  shareId: string | null;
  /** For reserve slots, the work or recording the money is for (a holder's share names its subject). */
  subjectId: string | null;
}

/** Slots with their weights ready for allocation (bigint, and as doubles: all below 2^27). */
export interface SlotSet {
  slots: Slot[];
  weights: bigint[];
  weightsNum: number[];
}

export function slotSet(slots: Slot[]): SlotSet {
  return { slots, weights: slots.map((s) => s.weight), weightsNum: slots.map((s) => Number(s.weight)) };
}

export function subjectKey(kind: 'work' | 'recording', id: string): string {
  return `${kind}:${id}`;
}

export function slotsFor(
  rights: RecordingRights,
  rightType: RightType,
  atMs: number,
  cmoId: string,
  mandatesOf: (holderId: string) => readonly Mandate[],
): Slot[] {
  if (!rights.known)
    return [
      {
        weight: 1n,
        holderId: null,
        reserveReason: 'unknown_recording',
        shareId: null,
        subjectId: rights.recordingId,
      },
    ];
  const subjects: Array<{ key: string; id: string; portionBp: number }> =
    rightType === 'performing'
      ? rights.works.map((w) => ({ key: subjectKey('work', w.workId), id: w.workId, portionBp: w.portionBp }))
      : [
          {
            key: subjectKey('recording', rights.recordingId),
            id: rights.recordingId,
            portionBp: FULL_SHARE_BP,
          },
        ];
  if (subjects.length === 0) {
    return [
      {
        weight: 1n,
        holderId: null,
        reserveReason: 'no_work_linked',
        shareId: null,
        subjectId: rights.recordingId,
      },
    ];
  }
  const out: Slot[] = [];
  for (const subject of subjects) {
    if (subject.portionBp <= 0) continue;
    const portion = BigInt(subject.portionBp);
    const active = sharesAt(
      (rights.shares.get(subject.key) ?? []).filter((s) => s.rightType === rightType),
      atMs,
    ).sort((a, b) =>
      a.holderId < b.holderId ? -1 : a.holderId > b.holderId ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
    );
    const total = active.reduce((s, sh) => s + sh.shareBp, 0);
    if (total > FULL_SHARE_BP) {
      out.push({
        weight: portion * BigInt(FULL_SHARE_BP),
        holderId: null,
        reserveReason: 'share_conflict',
        shareId: null,
        subjectId: subject.id,
      });
      continue;
    }
    for (const sh of active) {
      if (sh.shareBp <= 0) continue;
      const mandate = mandateAt(mandatesOf(sh.holderId), sh.holderId, rightType, atMs);
      const represented = mandate !== null && mandate.cmoId === cmoId;
      out.push({
        weight: portion * BigInt(sh.shareBp),
        holderId: sh.holderId,
        reserveReason: represented ? null : 'missing_mandate',
        shareId: sh.id,
        subjectId: represented ? null : subject.id,
      });
    }
    if (total < FULL_SHARE_BP) {
      out.push({
        weight: portion * BigInt(FULL_SHARE_BP - total),
        holderId: null,
        reserveReason: 'unregistered_share',
        shareId: null,
        subjectId: subject.id,
      });
    }
  }
  if (out.length === 0) {
    return [
      {
        weight: 1n,
        holderId: null,
        reserveReason: 'no_work_linked',
        shareId: null,
        subjectId: rights.recordingId,
      },
    ];
  }
  return out;
}

/**
 * The span of time around `atMs` in which slotsFor gives the same answer: between the nearest validity
 * boundaries of the shares and mandates involved. Lets the engine reuse slots across airings.
 */
export function stableSpan(
  rights: RecordingRights,
  rightType: RightType,
  atMs: number,
  mandatesOf: (holderId: string) => readonly Mandate[],
): { fromMs: number; toMs: number } {
  let fromMs = -Infinity;
  let toMs = Infinity;
  const consider = (b: number | null) => {
    if (b === null) return;
    if (b <= atMs) fromMs = Math.max(fromMs, b);
    else toMs = Math.min(toMs, b);
  };
  for (const shares of rights.shares.values()) {
    for (const s of shares) {
      if (s.rightType !== rightType) continue;
      consider(s.validFromMs);
      consider(s.validToMs);
      for (const m of mandatesOf(s.holderId)) {
        if (m.rightType !== rightType) continue;
        consider(m.validFromMs);
        consider(m.validToMs);
      }
    }
  }
  return { fromMs, toMs };
}
