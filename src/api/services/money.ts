import { periodOf } from '../../catalog/index.js';
import { computeDue, roundHalfUp, weighDetection, type AccrualLicence } from '../../royalty/index.js';
import type { AppContext } from '../context.js';

export interface AiringForEstimate {
  channelId: string;
  startMs: number;
  endMs: number;
  useType: string | null;
}

/**
 * Money at stake on an airing that has not been accrued yet: what the per-second licences of its
 * channel would pay for it alone, through the royalty engine's own weighing and rate (revenue-pool
 * licences share a pool by the whole period's airtime, so one airing alone has no amount yet and is left
 * out). An estimate for ordering the review queue, never booked; the accrual run computes the real thing.
 */
export class MoneyEstimator {
  private readonly contexts = new Map<string, Promise<AccrualLicence[]>>();

  /** `cmoId`: count only that CMO's licences (what a CMO reviewer may see). */
  constructor(
    private readonly ctx: AppContext,
    private readonly cmoId: string | null = null,
  ) {}

  private licences(periodId: string, startMs: number): Promise<AccrualLicence[]> {
    let p = this.contexts.get(periodId);
    if (!p) {
      p = this.ctx.royalty
        .licenceContexts(periodOf(startMs))
        .then((r) => r.licences)
        // a licence without a tariff version in force, or with broken rules: no estimate, not an error here
        .catch(() => []);
      this.contexts.set(periodId, p);
    }
    return p;
  }

  async estimateTiyn(a: AiringForEstimate): Promise<number | null> {
    const period = periodOf(a.startMs);
    const licences = (await this.licences(period.id, a.startMs)).filter(
      (l) => l.channels.some((c) => c.id === a.channelId) && (this.cmoId === null || l.cmo.id === this.cmoId),
    );
    let total = 0n;
    let any = false;
    for (const lic of licences) {
      if (lic.rules.basis.kind !== 'per_second') continue;
      const ch = lic.channels.find((c) => c.id === a.channelId)!;
      const w = weighDetection(lic.rules, ch.timeZone, a);
      const due = computeDue(lic.rules, w.units, null);
      total += roundHalfUp(due.exactNum, due.exactDen);
      any = true;
    }
    return any ? Number(total) : null;
  }
}
