import { formatDateMs, parsePeriod } from '../../catalog/index.js';
import {
  RoyaltyError,
  explainLine,
  statementTotals,
  type AccrueResult,
  type HolderStatement,
  type LineTrace,
  type UsageRow,
  type VerifyResult,
} from '../../royalty/index.js';
import { requireRole, type Caller } from '../access.js';
import type { AuditActor } from '../audit.js';
import type { AppContext } from '../context.js';
import { ApiError, badInput, notFound } from '../errors.js';
import { periodParam } from '../http/query.js';

/** Domain errors of the royalty stage become 400 (bad request) or 409 (state does not allow it). */
export async function royaltyCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RoyaltyError) {
      const conflict = /already|closed|running|no usage report/.test(err.message);
      throw new ApiError(conflict ? 409 : 400, conflict ? 'conflict' : 'invalid_input', err.message);
    }
    if (err instanceof RangeError) throw badInput(err.message);
    throw err;
  }
}

export interface LicenceView {
  id: string;
  licenseeId: string;
  licenseeName: string;
  cmoId: string;
  cmoName: string;
  tariffId: string;
  tariffName: string;
  validFromMs: number;
  validToMs: number | null;
}

export async function listLicences(ctx: AppContext, p: Caller): Promise<LicenceView[]> {
  const scope = ctx.scope.licences(p, 'l.cmo_id', 'l.licensee_id');
  let q = ctx.db
    .selectFrom('licences as l')
    .innerJoin('licensees as e', 'e.id', 'l.licensee_id')
    .innerJoin('cmos as c', 'c.id', 'l.cmo_id')
    .innerJoin('tariffs as t', 't.id', 'l.tariff_id')
    .select([
      'l.id',
      'l.licensee_id',
      'e.name as licensee_name',
      'l.cmo_id',
      'c.name as cmo_name',
      'l.tariff_id',
      't.name as tariff_name',
      'l.valid_from_ms',
      'l.valid_to_ms',
    ])
    .orderBy('l.id');
  if (scope) q = q.where(scope);
  return (await q.execute()).map((r) => ({
    id: r.id,
    licenseeId: r.licensee_id,
    licenseeName: r.licensee_name,
    cmoId: r.cmo_id,
    cmoName: r.cmo_name,
    tariffId: r.tariff_id,
    tariffName: r.tariff_name,
    validFromMs: Number(r.valid_from_ms),
    validToMs: r.valid_to_ms === null ? null : Number(r.valid_to_ms),
  }));
}

async function assertTariff(
  ctx: AppContext,
  p: Caller,
  tariffId: string,
): Promise<{ cmoId: string; name: string }> {
  const who = requireRole(p, 'operator', 'cmo_reviewer', 'broadcaster');
  const t = await ctx.catalog.getTariff(tariffId);
  let ok = !!t;
  if (t && who.user.role === 'cmo_reviewer') ok = t.cmoId === who.user.cmoId;
  if (t && who.user.role === 'broadcaster') {
    ok = !!(await ctx.db
      .selectFrom('licences')
      .select('id')
      .where('tariff_id', '=', tariffId)
      .where('licensee_id', '=', who.user.licenseeId!)
      .executeTakeFirst());
  }
  if (!ok || !t) throw notFound(`tariff ${tariffId}`);
  return { cmoId: t.cmoId, name: t.name };
}

export async function tariffDetail(ctx: AppContext, p: Caller, tariffId: string) {
  const t = await assertTariff(ctx, p, tariffId);
  const versions = await ctx.catalog.tariffVersions(tariffId);
  return {
    id: tariffId,
    cmoId: t.cmoId,
    name: t.name,
    versions: versions.map((v) => ({
      id: v.id,
      version: v.version,
      validFromMs: v.validFromMs,
      validFrom: formatDateMs(v.validFromMs),
      rulesHash: v.rulesHash,
      rules: JSON.parse(v.rulesJson) as unknown,
    })),
  };
}

/** A new tariff version (operator, or a reviewer of the tariff's CMO), valid from a month's first day. */
export async function publishTariff(
  ctx: AppContext,
  p: Caller,
  actor: AuditActor,
  tariffId: string,
  validFrom: string,
  rules: unknown,
) {
  const who = requireRole(p, 'operator', 'cmo_reviewer');
  const t = await assertTariff(ctx, who, tariffId);
  void t;
  const validFromMs = (() => {
    try {
      return parsePeriod(validFrom.slice(0, 7)).startMs;
    } catch (err) {
      throw badInput((err as Error).message);
    }
  })();
  if (!/^\d{4}-\d{2}(-01)?$/.test(validFrom))
    throw badInput(`validFrom must be a month YYYY-MM (or its first day), got ${validFrom}`);
  const out = await royaltyCall(() => ctx.royalty.publishTariffVersion(tariffId, validFromMs, rules));
  await ctx.audit.record(
    actor,
    'tariff.publish',
    { kind: 'tariff', id: tariffId },
    { version: out.version, validFrom, rulesHash: out.rulesHash },
  );
  return out;
}

export async function runAccrual(
  ctx: AppContext,
  p: Caller,
  actor: AuditActor,
  period: string,
  force: boolean,
): Promise<AccrueResult> {
  requireRole(p, 'operator');
  const per = periodParam(period);
  const result = await royaltyCall(() => ctx.royalty.accrue(per.id, { force }));
  await ctx.audit.record(
    actor,
    'accrual.run',
    { kind: 'period', id: per.id },
    {
      revision: result.revision,
      changed: result.changed,
      licences: result.licences.length,
      headSeq: result.headSeq,
    },
  );
  return result;
}

export interface AccrualRunView {
  seq: number;
  period: string;
  revision: number | null;
  createdAtMs: number;
  hash: string;
  licences: Array<{
    licenceId: string;
    cmoId: string;
    licenseeId: string;
    dueTiyn: number;
    distributedTiyn: number;
    deductionTiyn: number;
    reserveTiyn: number;
    airings: number;
  }>;
}

export async function accrualRuns(
  ctx: AppContext,
  p: Caller,
  period: string | undefined,
): Promise<AccrualRunView[]> {
  const who = requireRole(p, 'operator', 'cmo_reviewer');
  let q = ctx.db
    .selectFrom('ledger_entries')
    .selectAll()
    .where('kind', '=', 'accrual_run')
    .orderBy('seq', 'desc')
    .limit(200);
  if (period) q = q.where('period', '=', periodParam(period).id);
  const rows = await q.execute();
  return rows.map((r) => {
    const payload = JSON.parse(r.payload_json) as { licences?: AccrualRunView['licences'] };
    const licences = (payload.licences ?? [])
      .filter((l) => who.user.role === 'operator' || l.cmoId === who.user.cmoId)
      .map((l) => ({
        licenceId: l.licenceId,
        cmoId: l.cmoId,
        licenseeId: l.licenseeId,
        dueTiyn: l.dueTiyn,
        distributedTiyn: l.distributedTiyn,
        deductionTiyn: l.deductionTiyn,
        reserveTiyn: l.reserveTiyn,
        airings: l.airings,
      }));
    return {
      seq: Number(r.seq),
      period: r.period ?? '',
      revision: r.revision === null ? null : Number(r.revision),
      createdAtMs: Number(r.created_at_ms),
      hash: r.hash,
      licences,
    };
  });
}

export async function verifyLedger(ctx: AppContext, p: Caller): Promise<VerifyResult> {
  requireRole(p, 'operator', 'cmo_reviewer');
  return ctx.royalty.verify();
}

/** A holder's statement; a CMO reviewer sees only the lines of its CMO's licences. */
export async function holderStatement(
  ctx: AppContext,
  p: Caller,
  holderId: string,
  period: string,
): Promise<HolderStatement> {
  await ctx.scope.assertHolderStatements(p, holderId);
  const per = periodParam(period);
  const s = await royaltyCall(() => ctx.royalty.holderStatement(holderId, per.id));
  if (p!.user.role !== 'cmo_reviewer') return s;
  const lines = s.lines.filter((l) => l.cmoId === p!.user.cmoId);
  return { ...s, lines, totals: statementTotals(lines) };
}

/** The periods for which a holder has statement lines, newest first. */
export async function holderPeriods(ctx: AppContext, p: Caller, holderId: string): Promise<string[]> {
  await ctx.scope.assertHolderStatements(p, holderId);
  await ctx.royalty.indexHolderLines();
  const rows = await ctx.db
    .selectFrom('holder_lines')
    .select('period')
    .distinct()
    .where('holder_id', '=', holderId)
    .orderBy('period', 'desc')
    .execute();
  return rows.map((r) => r.period);
}

/** The chain behind one accrual line, for the people it concerns. */
export async function traceLine(
  ctx: AppContext,
  p: Caller,
  seq: number,
): Promise<{ trace: LineTrace; explanation: string }> {
  const who = requireRole(p, 'operator', 'cmo_reviewer', 'rights_holder', 'broadcaster');
  let trace: LineTrace;
  try {
    trace = await ctx.royalty.traceLine(seq);
  } catch (err) {
    if (err instanceof RoyaltyError) throw notFound(`accrual line ${seq}`);
    throw err;
  }
  const u = who.user;
  const ok =
    u.role === 'operator' ||
    (u.role === 'cmo_reviewer' && trace.cmo.id === u.cmoId) ||
    (u.role === 'rights_holder' && trace.line.holderId === u.holderId) ||
    (u.role === 'broadcaster' && trace.licensee.id === u.licenseeId);
  if (!ok) throw notFound(`accrual line ${seq}`);
  return { trace, explanation: explainLine(trace) };
}

export interface UsageReportView {
  licenseeId: string;
  licenseeName: string;
  period: string;
  issuedAtMs: number | null;
  deadlineMs: number | null;
  open: boolean;
  rows: UsageRow[];
  totals: {
    airings: number;
    airtimeMs: number;
    totalTiyn: number;
    byStatus: Record<string, number>;
    byCmo: Record<string, number>;
  };
}

/** A broadcaster's usage report for a period; a CMO reviewer sees the amounts of its own licences only. */
export async function usageReport(
  ctx: AppContext,
  p: Caller,
  licenseeId: string,
  period: string,
): Promise<UsageReportView> {
  await ctx.scope.assertLicensee(p, licenseeId);
  const per = periodParam(period);
  const info = await ctx.royalty.usageReport(licenseeId, per.id);
  const licensee = await ctx.catalog.getLicensee(licenseeId);
  const rows: UsageRow[] = [];
  const onlyCmo = p!.user.role === 'cmo_reviewer' ? p!.user.cmoId : null;
  for await (const r of ctx.royalty.usageRows(licenseeId, per.id, ctx.now())) {
    if (onlyCmo) {
      const amounts = r.amounts.filter((a) => a.cmoId === onlyCmo);
      if (amounts.length === 0) continue;
      rows.push({ ...r, amounts, totalTiyn: amounts.reduce((s, a) => s + a.grossTiyn, 0) });
    } else rows.push(r);
  }
  const totals: UsageReportView['totals'] = {
    airings: rows.length,
    airtimeMs: 0,
    totalTiyn: 0,
    byStatus: {},
    byCmo: {},
  };
  for (const r of rows) {
    totals.airtimeMs += r.airtimeMs;
    totals.totalTiyn += r.totalTiyn;
    totals.byStatus[r.status] = (totals.byStatus[r.status] ?? 0) + 1;
    for (const a of r.amounts) totals.byCmo[a.cmoId] = (totals.byCmo[a.cmoId] ?? 0) + a.grossTiyn;
  }
  return {
    licenseeId,
    licenseeName: licensee?.name ?? licenseeId,
    period: per.id,
    issuedAtMs: info?.issuedAtMs ?? null,
    deadlineMs: info?.deadlineMs ?? null,
    open: info !== null && ctx.now() <= info.deadlineMs,
    rows,
    totals,
  };
}

/** The periods a licensee has usage reports for, newest first. */
export async function usagePeriods(ctx: AppContext, p: Caller, licenseeId: string): Promise<string[]> {
  await ctx.scope.assertLicensee(p, licenseeId);
  const rows = await ctx.db
    .selectFrom('usage_reports')
    .select('period')
    .where('licensee_id', '=', licenseeId)
    .orderBy('period', 'desc')
    .execute();
  return rows.map((r) => r.period);
}

/** Only the broadcaster itself confirms or disputes its usage. */
function requireOwnLicensee(p: Caller, licenseeId: string) {
  const who = requireRole(p, 'broadcaster');
  if (who.user.licenseeId !== licenseeId) throw notFound(`licensee ${licenseeId}`);
  return who;
}

export async function confirmUsage(
  ctx: AppContext,
  p: Caller,
  actor: AuditActor,
  licenseeId: string,
  period: string,
  detectionIds: string[] | 'all',
): Promise<number> {
  requireOwnLicensee(p, licenseeId);
  const per = periodParam(period);
  if (detectionIds !== 'all' && detectionIds.length === 0)
    throw badInput('choose at least one usage line to confirm');
  const n = await royaltyCall(() => ctx.royalty.confirmUsage(licenseeId, per.id, detectionIds, ctx.now()));
  await ctx.audit.record(
    actor,
    'usage.confirm',
    { kind: 'usage_report', id: `${licenseeId}/${per.id}` },
    {
      lines: n,
      detectionIds: detectionIds === 'all' ? 'all' : detectionIds.slice(0, 50),
    },
  );
  return n;
}

export async function disputeUsage(
  ctx: AppContext,
  p: Caller,
  actor: AuditActor,
  licenseeId: string,
  period: string,
  detectionId: string,
  reason: string,
): Promise<string> {
  requireOwnLicensee(p, licenseeId);
  const per = periodParam(period);
  if (!reason.trim()) throw badInput('a dispute needs a reason');
  if (reason.length > 2000) throw badInput('the reason is longer than 2000 characters');
  const id = await royaltyCall(() =>
    ctx.royalty.disputeUsage(licenseeId, per.id, detectionId, reason.trim(), ctx.now()),
  );
  await ctx.audit.record(
    actor,
    'usage.dispute',
    { kind: 'dispute', id },
    { licenseeId, period: per.id, detectionId, reason: reason.trim() },
  );
  return id;
}

export interface DisputeView {
  id: string;
  licenseeId: string;
  period: string;
  detectionId: string;
  reason: string;
  openedAtMs: number;
  status: string;
  resolvedAtMs: number | null;
  resolution: string | null;
}

function toDispute(d: {
  id: string;
  licensee_id: string;
  period: string;
  detection_id: string;
  reason: string;
  opened_at_ms: number;
  status: string;
  resolved_at_ms: number | null;
  resolution: string | null;
}): DisputeView {
  return {
    id: d.id,
    licenseeId: d.licensee_id,
    period: d.period,
    detectionId: d.detection_id,
    reason: d.reason,
    openedAtMs: Number(d.opened_at_ms),
    status: d.status,
    resolvedAtMs: d.resolved_at_ms === null ? null : Number(d.resolved_at_ms),
    resolution: d.resolution,
  };
}

/** Disputes the caller may see: operator all, reviewer those of its CMO's licensees, broadcaster its own. */
export async function listDisputes(
  ctx: AppContext,
  p: Caller,
  f: { period?: string; status?: string },
): Promise<DisputeView[]> {
  const who = requireRole(p, 'operator', 'cmo_reviewer', 'broadcaster');
  let q = ctx.db
    .selectFrom('usage_disputes')
    .selectAll()
    .orderBy('opened_at_ms', 'desc')
    .orderBy('id')
    .limit(1000);
  if (f.period) q = q.where('period', '=', periodParam(f.period).id);
  if (f.status) q = q.where('status', '=', f.status);
  if (who.user.role === 'broadcaster') q = q.where('licensee_id', '=', who.user.licenseeId!);
  if (who.user.role === 'cmo_reviewer') {
    q = q.where(
      'licensee_id',
      'in',
      ctx.db.selectFrom('licences').select('licensee_id').where('cmo_id', '=', who.user.cmoId!),
    );
  }
  return (await q.execute()).map(toDispute);
}

export async function resolveDispute(
  ctx: AppContext,
  p: Caller,
  actor: AuditActor,
  disputeId: string,
  accept: boolean,
  note: string,
): Promise<{ dispute: DisputeView; reaccrued: boolean }> {
  const who = requireRole(p, 'operator', 'cmo_reviewer');
  const d = await ctx.db
    .selectFrom('usage_disputes')
    .selectAll()
    .where('id', '=', disputeId)
    .executeTakeFirst();
  if (!d) throw notFound(`dispute ${disputeId}`);
  if (who.user.role === 'cmo_reviewer') {
    const ok = await ctx.db
      .selectFrom('licences')
      .select('id')
      .where('licensee_id', '=', d.licensee_id)
      .where('cmo_id', '=', who.user.cmoId!)
      .executeTakeFirst();
    if (!ok) throw notFound(`dispute ${disputeId}`);
  }
  if (!note.trim()) throw badInput('a resolution needs a note (why)');
  const result = await royaltyCall(() =>
    ctx.royalty.resolveDispute(disputeId, accept, note.trim(), ctx.now()),
  );
  await ctx.audit.record(
    actor,
    accept ? 'dispute.accept' : 'dispute.reject',
    { kind: 'dispute', id: disputeId },
    { note: note.trim() },
  );
  const after = await ctx.db
    .selectFrom('usage_disputes')
    .selectAll()
    .where('id', '=', disputeId)
    .executeTakeFirstOrThrow();
  return { dispute: toDispute(after), reaccrued: result !== null };
}
