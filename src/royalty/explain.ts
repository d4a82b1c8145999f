import {
  formatBp,
  formatDateMs,
  formatIsrc,
  formatIswc,
  formatLocal,
  type Cmo,
  type Licence,
  type Licensee,
  type Recording,
  type RightsHolder,
  type Share,
  type TariffVersion,
  type Work,
} from '../catalog/index.js';
import type { AccrualLine } from './engine.js';
import { formatKzt, formatMicro } from './money.js';
import type { TariffRules } from './rules.js';
import { RESERVE_REASON_TEXT } from './slots.js';
import { formatWeightedUs, type Weighing } from './weigh.js';

/** Everything a line points to, gathered by the repository; explainLine puts it in plain words. */
export interface LineTrace {
  line: AccrualLine;
  entry: {
    seq: number;
    period: string;
    revision: number | null;
    createdAtMs: number;
    hash: string;
    bucketAmountTiyn: number | null;
    bucketUnits: string | null;
    channelId: string | null;
    day: string | null;
  };
  reversedBySeq: number | null;
  reverses: AccrualLine | null;
  licence: Licence;
  cmo: Cmo;
  licensee: Licensee;
  tariffVersion: TariffVersion;
  tariffName: string;
  licenceDueTiyn: number | null;
  detection: {
    id: string;
    startMs: number;
    endMs: number;
    status: string;
    useType: string | null;
    confidence: number;
    evidencePath: string | null;
    evidenceStartMs: number | null;
  } | null;
  channel: { id: string; name: string; timeZone: string } | null;
  recording: Recording | null;
  work: Work | null;
  workPortionBp: number | null;
  share: Share | null;
  holder: RightsHolder | null;
  mandateCmoId: string | null;
  weighing: Weighing | null;
}

const RIGHT_TEXT: Record<string, string> = {
  performing: "the author's performing right",
  performer: "the performers' related right",
  producer: "the phonogram producers' related right",
};

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(3)} s`;
}

export function explainLine(t: LineTrace): string {
  const l = t.line;
  const out: string[] = [];
  const rules = JSON.parse(t.tariffVersion.rulesJson) as TariffRules;
  out.push(
    `Line ${l.seq}: ${l.kind === 'reversal' ? 'a REVERSAL' : 'an accrual'} of period ${t.entry.period}` +
      `${t.entry.revision ? `, run ${t.entry.revision}` : ''}, ledger entry ${t.entry.seq} (hash ${t.entry.hash.slice(0, 16)}...), written ${new Date(t.entry.createdAtMs).toISOString()}.`,
  );
  const who = t.holder ? `${t.holder.name} (${t.holder.id})` : 'no known rights holder';
  if (l.reserveReason) {
    out.push(
      `Money: ${formatKzt(l.grossTiyn)} held in the UNDISTRIBUTED RESERVE for ${RIGHT_TEXT[l.rightType] ?? l.rightType}` +
        `${t.holder ? ` on the account of ${who}` : ''}, because ${RESERVE_REASON_TEXT[l.reserveReason]}. ` +
        'It is released to the rights holders when the data is fixed and the period is accrued again.',
    );
  } else {
    const pct = rules.administration?.percent ?? '0';
    out.push(
      `Money: ${formatKzt(l.grossTiyn)} accrued to ${who} for ${RIGHT_TEXT[l.rightType] ?? l.rightType}; ` +
        `the CMO's administration deduction ${formatKzt(l.deductionTiyn)} (${pct} %, rounded down); ${formatKzt(l.netTiyn)} to be paid.`,
    );
  }
  if (t.reverses)
    out.push(
      `This line cancels line ${t.reverses.seq} (same airing, holder and right) because the recomputed amount or data changed.`,
    );
  if (t.reversedBySeq !== null)
    out.push(
      `This line was later cancelled by reversal line ${t.reversedBySeq}; see the corrected lines of the same airing.`,
    );
  out.push('');
  out.push('Where it comes from:');
  let n = 1;
  if (t.detection && t.channel) {
    const d = t.detection;
    const tz = t.channel.timeZone;
    const rec = t.recording;
    out.push(
      `${n++}. Airplay: detection ${d.id} on channel "${t.channel.name}" (${t.channel.id}) from ${formatLocal(tz, d.startMs)} to ${formatLocal(tz, d.endMs)} ` +
        `(${tz}), ${secs(d.endMs - d.startMs)} of ${rec ? `recording "${rec.title}" (${rec.id}${rec.isrc ? `, ISRC ${formatIsrc(rec.isrc)}` : ''})` : `recording ${l.subjectId ?? '?'} (not in the catalogue)`}; ` +
        `review status ${d.status}, use type ${d.useType ?? 'unknown'}, confidence ${d.confidence.toFixed(3)}.`,
    );
    out.push(
      d.evidencePath
        ? `   Evidence: air-check clip ${d.evidencePath}${d.evidenceStartMs !== null ? ` (starts ${formatLocal(tz, d.evidenceStartMs)})` : ''}.`
        : '   Evidence: no air-check clip is kept for this detection.',
    );
  } else if (l.reserveReason === 'no_usage') {
    out.push(
      `${n++}. No airplay: the licence's minimum fee was due although no airing was detected in the period.`,
    );
  } else {
    out.push(`${n++}. Airplay: detection ${l.detectionId ?? '?'} (no longer found in the detections table).`);
  }
  const w = t.weighing;
  if (w && t.channel) {
    const parts = w.segments.map((s) => {
      const local = formatLocal(t.channel!.timeZone, s.startMs).slice(11, 16);
      return `${secs(s.endMs - s.startMs)} from ${local} at daypart coefficient ${formatMicro(s.coefficientMicro)}`;
    });
    out.push(
      `${n++}. Weighing under tariff "${t.tariffName}" version ${t.tariffVersion.version} (${t.tariffVersion.id}, in force from ${formatDateMs(t.tariffVersion.validFromMs)}, rules hash ${t.tariffVersion.rulesHash.slice(0, 12)}...): ` +
        `${parts.join(' + ') || 'no paid airtime'}; times channel weight ${formatMicro(w.channelWeightMicro)} and use-type weight ${formatMicro(w.useTypeWeightMicro)} (${w.useType}) ` +
        `= ${formatWeightedUs(Math.abs(l.weightedUs))} weighted seconds.`,
    );
    if (rules.dayparts?.length) {
      out.push(
        `   Dayparts (local time): ${rules.dayparts.map((dp) => `${dp.from}-${dp.to} x${dp.coefficient}`).join(', ')}; other hours x1.`,
      );
    }
  }
  const basis =
    rules.basis.kind === 'per_second'
      ? rules.basis.rateTiyn !== undefined
        ? `${rules.basis.rateTiyn} tiyn per weighted second of music`
        : `${rules.basis.rateMci} MCI per weighted second of music, at the year's MCI value`
      : `a pool of ${rules.basis.percent} % of the broadcaster's declared revenue for the period, shared pro rata by weighted airtime`;
  out.push(
    `${n++}. Licence ${t.licence.id}: ${t.licensee.name} (${t.licensee.id}, ${t.licensee.category}) with CMO ${t.cmo.name} (${t.cmo.id}), ` +
      `in force ${formatDateMs(t.licence.validFromMs)} to ${t.licence.validToMs === null ? 'open' : formatDateMs(t.licence.validToMs)}. Basis: ${basis}` +
      `${rules.minimumFee ? `, minimum fee ${rules.minimumFee.tiyn !== undefined ? formatKzt(rules.minimumFee.tiyn) : `${rules.minimumFee.mci} MCI`} per period` : ''}.`,
  );
  if (t.licenceDueTiyn !== null) {
    out.push(
      `   The licence's due for ${t.entry.period} is ${formatKzt(t.licenceDueTiyn)}` +
        (t.entry.bucketAmountTiyn !== null && t.entry.day
          ? `; the channel's day ${t.entry.day} received ${formatKzt(t.entry.bucketAmountTiyn)} of it by weighted airtime, and this airing its part of that by its own weighted airtime (largest remainder rounding).`
          : '.'),
    );
  }
  const split = Object.entries(rules.rightTypeSplit)
    .map(([rt, p]) => `${rt} ${p} %`)
    .join(', ');
  out.push(
    `${n++}. Right types: the airing's money divides as ${split}; this line is the ${l.rightType} part.`,
  );
  if (t.share && t.holder) {
    const s = t.share;
    const subject = t.work
      ? `work "${t.work.title}" (${t.work.id}${t.work.iswc ? `, ISWC ${formatIswc(t.work.iswc)}` : ''})${t.workPortionBp !== null && t.workPortionBp !== 10000 ? `, which is ${formatBp(t.workPortionBp)} % of the recording` : ''}`
      : `recording ${s.subjectId}`;
    out.push(
      `${n++}. Share: ${t.holder.name} holds ${formatBp(s.shareBp)} % of ${subject} for ${RIGHT_TEXT[s.rightType] ?? s.rightType}; ` +
        `share version ${s.id} (version ${s.version}, valid ${formatDateMs(s.validFromMs)} to ${s.validToMs === null ? 'open' : formatDateMs(s.validToMs)}` +
        `${s.supersedesId ? `, replacing ${s.supersedesId}` : ''}${s.retiredAtMs !== null ? `, since retired on ${formatDateMs(s.retiredAtMs)}` : ''}).`,
    );
    out.push(
      t.mandateCmoId === t.cmo.id
        ? `   Mandate: ${t.holder.name} is represented by ${t.cmo.name} for this right.`
        : `   Mandate: ${t.holder.name} has ${t.mandateCmoId ? `a mandate with ${t.mandateCmoId}, not ${t.cmo.id},` : 'no mandate'} for this right at the airing's time.`,
    );
  } else if (l.reserveReason && l.subjectId) {
    out.push(
      `${n++}. Subject: ${t.work ? `work "${t.work.title}" (${t.work.id})` : `${l.subjectId}`}: ${RESERVE_REASON_TEXT[l.reserveReason]}.`,
    );
  }
  return `${out.join('\n')}\n`;
}
