import { csvRow, formatBp, formatIsrc, formatIswc } from '../catalog/index.js';
import { formatKzt } from './money.js';
import { RESERVE_REASON_TEXT, type ReserveReason } from './slots.js';

/**
 * Statements and reports assembled from ledger lines: per rights holder (what aired where and when, the
 * airtime, the rule, the amounts, deductions, undistributed, totals), per broadcaster (usage lines to
 * confirm or dispute), per CMO (collected, accrued, deducted, undistributed by age), and usage exports
 * (a cue sheet and a DDEX-DSR-like flat file). Pure: rows in, text out.
 */

export interface StatementLine {
  lineSeq: number;
  kind: 'accrual' | 'reversal';
  period: string;
  licenceId: string;
  cmoId: string;
  channelId: string;
  channelName: string;
  detectionId: string | null;
  localStart: string;
  localEnd: string;
  timeZone: string;
  recordingId: string | null;
  recordingTitle: string;
  isrc: string | null;
  workId: string | null;
  workTitle: string | null;
  iswc: string | null;
  rightType: string;
  shareId: string | null;
  shareBp: number | null;
  tariffVersionId: string;
  airtimeMs: number;
  weightedSec: string;
  grossTiyn: number;
  deductionTiyn: number;
  netTiyn: number;
  reserveReason: ReserveReason | null;
}

export interface StatementTotals {
  airings: number;
  airtimeMs: number;
  grossTiyn: number;
  deductionTiyn: number;
  netTiyn: number;
  /** Held in the undistributed reserve on this holder's account (e.g. no mandate with the CMO). */
  undistributedTiyn: number;
  byRightType: Record<string, { grossTiyn: number; deductionTiyn: number; netTiyn: number }>;
}

export interface HolderStatement {
  holderId: string;
  holderName: string;
  ipiNameNumber: string | null;
  period: string;
  lines: StatementLine[];
  totals: StatementTotals;
}

export function statementTotals(lines: readonly StatementLine[]): StatementTotals {
  const airings = new Map<string, number>();
  const t: StatementTotals = {
    airings: 0,
    airtimeMs: 0,
    grossTiyn: 0,
    deductionTiyn: 0,
    netTiyn: 0,
    undistributedTiyn: 0,
    byRightType: {},
  };
  for (const l of lines) {
    if (l.detectionId)
      airings.set(l.detectionId, (airings.get(l.detectionId) ?? 0) + (l.kind === 'accrual' ? 1 : -1));
    if (l.reserveReason !== null) {
      t.undistributedTiyn += l.grossTiyn;
      continue;
    }
    t.grossTiyn += l.grossTiyn;
    t.deductionTiyn += l.deductionTiyn;
    t.netTiyn += l.netTiyn;
    const r = (t.byRightType[l.rightType] ??= { grossTiyn: 0, deductionTiyn: 0, netTiyn: 0 });
    r.grossTiyn += l.grossTiyn;
    r.deductionTiyn += l.deductionTiyn;
    r.netTiyn += l.netTiyn;
  }
  // Airtime per airing once, even when the holder has several lines for it (several right types or works).
  const airtime = new Map<string, number>();
  for (const l of lines) if (l.detectionId && l.kind === 'accrual') airtime.set(l.detectionId, l.airtimeMs);
  for (const [id, n] of airings) {
    if (n > 0) {
      t.airings++;
      t.airtimeMs += airtime.get(id) ?? 0;
    }
  }
  return t;
}

const STATEMENT_COLUMNS = [
  'line',
  'kind',
  'period',
  'channel',
  'channel_name',
  'local_start',
  'local_end',
  'time_zone',
  'airtime_sec',
  'weighted_sec',
  'recording',
  'title',
  'isrc',
  'work',
  'work_title',
  'iswc',
  'right_type',
  'share_percent',
  'licence',
  'cmo',
  'tariff_version',
  'gross_tiyn',
  'deduction_tiyn',
  'net_tiyn',
  'undistributed_reason',
];

function sec(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  const a = Math.abs(ms);
  return `${sign}${Math.floor(a / 1000)}.${String(a % 1000).padStart(3, '0')}`;
}

export function statementCsv(s: HolderStatement): string {
  let out = csvRow(STATEMENT_COLUMNS);
  for (const l of s.lines) {
    out += csvRow([
      l.lineSeq,
      l.kind,
      l.period,
      l.channelId,
      l.channelName,
      l.localStart,
      l.localEnd,
      l.timeZone,
      sec(l.airtimeMs),
      l.weightedSec,
      l.recordingId,
      l.recordingTitle,
      l.isrc ? formatIsrc(l.isrc) : '',
      l.workId,
      l.workTitle,
      l.iswc ? formatIswc(l.iswc) : '',
      l.rightType,
      l.shareBp === null ? '' : formatBp(l.shareBp),
      l.licenceId,
      l.cmoId,
      l.tariffVersionId,
      l.grossTiyn,
      l.deductionTiyn,
      l.netTiyn,
      l.reserveReason ?? '',
    ]);
  }
  const t = s.totals;
  out += csvRow([
    'TOTAL',
    '',
    s.period,
    '',
    `${t.airings} airings`,
    '',
    '',
    '',
    sec(t.airtimeMs),
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    t.grossTiyn,
    t.deductionTiyn,
    t.netTiyn,
    '',
  ]);
  out += csvRow([
    'UNDISTRIBUTED',
    '',
    s.period,
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    t.undistributedTiyn,
    0,
    t.undistributedTiyn,
    '',
  ]);
  return out;
}

export function statementText(s: HolderStatement): string {
  const t = s.totals;
  const lines = [
    `Statement for ${s.holderName} (${s.holderId}${s.ipiNameNumber ? `, IPI ${s.ipiNameNumber}` : ''}), period ${s.period}`,
    `  ${t.airings} airings, ${sec(t.airtimeMs)} s of airtime`,
    `  accrued ${formatKzt(t.grossTiyn)}, CMO deduction ${formatKzt(t.deductionTiyn)}, to be paid ${formatKzt(t.netTiyn)}`,
  ];
  for (const [rt, v] of Object.entries(t.byRightType))
    lines.push(`    ${rt}: ${formatKzt(v.grossTiyn)} gross, ${formatKzt(v.netTiyn)} net`);
  if (t.undistributedTiyn) lines.push(`  undistributed on this account: ${formatKzt(t.undistributedTiyn)}`);
  return `${lines.join('\n')}\n`;
}

// ---- broadcaster usage ----------------------------------------------------------------------------

export type UsageStatus =
  'open' | 'confirmed' | 'disputed' | 'dispute_accepted' | 'dispute_rejected' | 'deemed_accepted';

export interface UsageRow {
  detectionId: string;
  channelId: string;
  channelName: string;
  timeZone: string;
  startMs: number;
  endMs: number;
  localStart: string;
  localEnd: string;
  airtimeMs: number;
  useType: string | null;
  recordingId: string;
  title: string;
  isrc: string | null;
  iswcs: string[];
  composers: string[];
  performers: string[];
  /** Accrued (effective) per licence, tiyn. */
  amounts: Array<{ licenceId: string; cmoId: string; grossTiyn: number }>;
  totalTiyn: number;
  status: UsageStatus;
  disputeId: string | null;
}

export function usageStatus(opts: {
  confirmed: boolean;
  dispute: { id: string; status: string } | null;
  deadlineMs: number | null;
  nowMs: number;
}): UsageStatus {
  if (opts.dispute) {
    if (opts.dispute.status === 'accepted') return 'dispute_accepted';
    if (opts.dispute.status === 'rejected') return 'dispute_rejected';
    return 'disputed';
  }
  if (opts.confirmed) return 'confirmed';
  if (opts.deadlineMs !== null && opts.nowMs > opts.deadlineMs) return 'deemed_accepted';
  return 'open';
}

export function usageCsvHeader(licenceIds: readonly string[]): string {
  return csvRow([
    'detection',
    'channel',
    'channel_name',
    'local_start',
    'local_end',
    'time_zone',
    'airtime_sec',
    'use_type',
    'recording',
    'title',
    'isrc',
    ...licenceIds.map((l) => `tiyn_${l}`),
    'total_tiyn',
    'status',
    'dispute',
  ]);
}

export function usageCsvRow(r: UsageRow, licenceIds: readonly string[]): string {
  return csvRow([
    r.detectionId,
    r.channelId,
    r.channelName,
    r.localStart,
    r.localEnd,
    r.timeZone,
    sec(r.airtimeMs),
    r.useType ?? '',
    r.recordingId,
    r.title,
    r.isrc ? formatIsrc(r.isrc) : '',
    ...licenceIds.map((id) => r.amounts.find((a) => a.licenceId === id)?.grossTiyn ?? 0),
    r.totalTiyn,
    r.status,
    r.disputeId ?? '',
  ]);
}

/** A cue sheet: one row per airing with the musical content's identifiers and people. */
export function cueSheetHeader(): string {
  return csvRow([
    'channel',
    'date',
    'start',
    'end',
    'duration_sec',
    'title',
    'isrc',
    'iswc',
    'composers',
    'performers',
    'use_type',
  ]);
}

export function cueSheetRow(r: UsageRow): string {
  const [date, start] = r.localStart.split(' ');
  return csvRow([
    r.channelName,
    date,
    start,
    r.localEnd.split(' ')[1],
    sec(r.airtimeMs),
    r.title,
    r.isrc ? formatIsrc(r.isrc) : '',
    r.iswcs.map(formatIswc).join('; '),
    r.composers.join('; '),
    r.performers.join('; '),
    r.useType ?? 'featured',
  ]);
}

/**
 * A DDEX-DSR-like flat file (tab separated): HEAD, one SY01 summary, one AS01 record per recording with
 * its usage count and airtime, FOOT. Modelled on the DSR flat-file shape; not a certified DDEX profile.
 */
export interface DsrRecording {
  recordingId: string;
  isrc: string | null;
  title: string;
  performers: string[];
  iswcs: string[];
  usages: number;
  airtimeMs: number;
  amountTiyn: number;
}

export function dsrLike(opts: {
  senderId: string;
  recipientId: string;
  period: string;
  createdIso: string;
  licenseeName: string;
  recordings: readonly DsrRecording[];
}): string {
  const tsv = (fields: Array<string | number>) =>
    `${fields.map((f) => String(f).replace(/[\t\r\n]/g, ' ')).join('\t')}\n`;
  let out = tsv([
    'HEAD',
    'BroadcastUsageReport',
    '1.0',
    opts.senderId,
    opts.recipientId,
    opts.createdIso,
    opts.period,
  ]);
  const totalUsages = opts.recordings.reduce((s, r) => s + r.usages, 0);
  const totalAmount = opts.recordings.reduce((s, r) => s + r.amountTiyn, 0);
  out += tsv(['SY01', opts.licenseeName, opts.period, 'Broadcast', totalUsages, totalAmount, 'KZT-tiyn']);
  for (const r of opts.recordings) {
    out += tsv([
      'AS01',
      r.recordingId,
      r.isrc ?? '',
      r.title,
      r.performers.join('|'),
      r.iswcs.join('|'),
      r.usages,
      Math.round(r.airtimeMs / 1000),
      r.amountTiyn,
    ]);
  }
  out += tsv(['FOOT', opts.recordings.length + 3, totalUsages]);
  return out;
}

// ---- CMO summary ----------------------------------------------------------------------------------

export interface CmoSummary {
  cmoId: string;
  cmoName: string;
  period: string;
  /** Due from licensees under this CMO's licences (what the lines distribute). */
  collectedTiyn: number;
  accruedTiyn: number;
  deductedTiyn: number;
  netTiyn: number;
  undistributedTiyn: number;
  undistributedByReason: Record<string, number>;
  undistributedByAge: Record<string, number>;
  licences: Array<{ licenceId: string; licenseeId: string; dueTiyn: number }>;
}

export const AGE_BUCKETS: Array<{ label: string; maxDays: number }> = [
  { label: '0-30 days', maxDays: 30 },
  { label: '31-90 days', maxDays: 90 },
  { label: '91-365 days', maxDays: 365 },
  { label: 'over 1 year', maxDays: Infinity },
];

export function ageBucket(ageMs: number): string {
  const days = ageMs / 86_400_000;
  return AGE_BUCKETS.find((b) => days <= b.maxDays)!.label;
}

export function cmoSummaryText(s: CmoSummary): string {
  const out = [
    `CMO ${s.cmoName} (${s.cmoId}), period ${s.period}`,
    `  collected (due under licences): ${formatKzt(s.collectedTiyn)}`,
    `  accrued to rights holders:      ${formatKzt(s.accruedTiyn)}`,
    `  administration deduction:       ${formatKzt(s.deductedTiyn)}`,
    `  net to rights holders:          ${formatKzt(s.netTiyn)}`,
    `  undistributed reserve:          ${formatKzt(s.undistributedTiyn)}`,
  ];
  for (const [reason, v] of Object.entries(s.undistributedByReason)) {
    out.push(`    ${reason}: ${formatKzt(v)} (${RESERVE_REASON_TEXT[reason as ReserveReason] ?? reason})`);
  }
  for (const [age, v] of Object.entries(s.undistributedByAge)) out.push(`    aged ${age}: ${formatKzt(v)}`);
  for (const l of s.licences)
    out.push(`  licence ${l.licenceId} (${l.licenseeId}): due ${formatKzt(l.dueTiyn)}`);
  return `${out.join('\n')}\n`;
}
