import {
  CatalogError,
  FULL_SHARE_BP,
  type Licence,
  type Mandate,
  type RightType,
  type Share,
  type ShareSubjectKind,
} from './types.js';

/** Catalogue consistency rules: validity periods, share conflicts, mandate and licence overlaps. Pure. */

export function overlaps(aFrom: number, aTo: number | null, bFrom: number, bTo: number | null): boolean {
  return aFrom < (bTo ?? Infinity) && bFrom < (aTo ?? Infinity);
}

export function coversInstant(from: number, to: number | null, ms: number): boolean {
  return from <= ms && ms < (to ?? Infinity);
}

export function assertPeriod(from: number, to: number | null, what: string): void {
  if (!Number.isSafeInteger(from)) throw new CatalogError(`${what}: valid-from is not a time`);
  if (to !== null && !(to > from)) throw new CatalogError(`${what}: valid-to must be after valid-from`);
}

/** Active (not retired) shares of one subject and right type valid at `ms`. */
export function sharesAt(shares: readonly Share[], ms: number): Share[] {
  return shares.filter((s) => s.retiredAtMs === null && coversInstant(s.validFromMs, s.validToMs, ms));
}

export interface ConflictSpan {
  subjectKind: ShareSubjectKind;
  subjectId: string;
  rightType: RightType;
  fromMs: number;
  toMs: number | null;
  /** The highest total within the span, basis points (above 10000). */
  totalBp: number;
}

/**
 * Spans of time where the active shares of each (subject, right type) sum to more than 100 %.
 * A sweep over validity boundaries; adjacent over-allocated spans are merged.
 */
export function findShareConflicts(shares: readonly Share[]): ConflictSpan[] {
  const groups = new Map<string, Share[]>();
  for (const s of shares) {
    if (s.retiredAtMs !== null) continue;
    const key = `${s.subjectKind}\u0000${s.subjectId}\u0000${s.rightType}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(s);
  }
  const out: ConflictSpan[] = [];
  for (const key of [...groups.keys()].sort()) {
    const group = groups.get(key)!;
    const bounds = new Set<number>();
    for (const s of group) {
      bounds.add(s.validFromMs);
      if (s.validToMs !== null) bounds.add(s.validToMs);
    }
    const points = [...bounds].sort((a, b) => a - b);
    let open: ConflictSpan | null = null;
    for (let i = 0; i < points.length; i++) {
      const from = points[i];
      const to = i + 1 < points.length ? points[i + 1] : null;
      const total = sharesAt(group, from).reduce((sum, s) => sum + s.shareBp, 0);
      if (total > FULL_SHARE_BP) {
        if (open && open.toMs === from) {
          open.toMs = to;
          open.totalBp = Math.max(open.totalBp, total);
        } else {
          open = {
            subjectKind: group[0].subjectKind,
            subjectId: group[0].subjectId,
            rightType: group[0].rightType,
            fromMs: from,
            toMs: to,
            totalBp: total,
          };
          out.push(open);
        }
      }
      if (to === null) break;
    }
  }
  return out;
}

/** The existing mandate that a new one would overlap (same holder and right type), if any. */
export function findMandateOverlap(
  existing: readonly Mandate[],
  candidate: Omit<Mandate, 'id'>,
): Mandate | null {
  for (const m of existing) {
    if (m.holderId !== candidate.holderId || m.rightType !== candidate.rightType) continue;
    if (overlaps(m.validFromMs, m.validToMs, candidate.validFromMs, candidate.validToMs)) return m;
  }
  return null;
}

/** The mandate in force for a holder and right type at `ms` (at most one, by the overlap rule). */
export function mandateAt(
  mandates: readonly Mandate[],
  holderId: string,
  rightType: RightType,
  ms: number,
): Mandate | null {
  for (const m of mandates) {
    if (m.holderId === holderId && m.rightType === rightType && coversInstant(m.validFromMs, m.validToMs, ms))
      return m;
  }
  return null;
}

/** The existing licence of the same licensee with the same CMO that a new one would overlap, if any. */
export function findLicenceOverlap(
  existing: readonly Licence[],
  candidate: Omit<Licence, 'id'>,
): Licence | null {
  for (const l of existing) {
    if (l.licenseeId !== candidate.licenseeId || l.cmoId !== candidate.cmoId) continue;
    if (overlaps(l.validFromMs, l.validToMs, candidate.validFromMs, candidate.validToMs)) return l;
  }
  return null;
}
