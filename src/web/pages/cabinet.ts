import type { FastifyInstance } from 'fastify';
import { formatBp, formatIsrc, localDate } from '../../catalog/index.js';
import { RESERVE_REASON_TEXT, formatWeightedSec, type ReserveReason } from '../../royalty/index.js';
import {
  ApiError,
  badInput,
  detections,
  paging,
  requireRole,
  royalty,
  type AppContext,
} from '../../api/index.js';
import { barChart } from '../charts.js';
import { html, qs, type Html } from '../html.js';
import type { MessageKey } from '../i18n/index.js';
import { page, pager, type PageCtx } from '../layout.js';
import { pageRoute } from '../route.js';

type Query = Record<string, string | undefined>;

/** The airplay chart's window. */
const CHART_DAYS = 60;

/** Whose cabinet: a rights holder's own; an operator or a CMO reviewer may open one with ?holder=. */
function holderOf(pc: PageCtx): string {
  const who = requireRole(pc.principal, 'rights_holder', 'operator', 'cmo_reviewer');
  if (who.user.role === 'rights_holder') return who.user.holderId!;
  const h = (pc.req.query as Query).holder;
  if (!h) throw badInput('choose a rights holder: ?holder=ID');
  return h;
}

function evidence(pc: PageCtx, v: detections.DetectionView): Html {
  if (!v.hasEvidence) return html`<span class="muted">${pc.t('review.noEvidence')}</span>`;
  const off = v.evidenceStartMs === null ? 0 : Math.max(0, (v.startMs - v.evidenceStartMs) / 1000);
  return html`<audio
    controls
    preload="none"
    aria-label="${pc.t('review.evidence')}: ${v.recordingTitle ?? v.recordingId}, ${pc.fmt.dateTime(v.startMs, v.timeZone)}"
    src="/api/v1/detections/${encodeURIComponent(v.id)}/evidence#t=${off.toFixed(1)}"
  ></audio>`;
}

export function registerCabinetPages(app: FastifyInstance, ctx: AppContext): void {
  app.get(
    '/cabinet',
    pageRoute(ctx, async (pc) => {
      const holderId = holderOf(pc);
      const { t, fmt } = pc;
      const q = pc.req.query as Query;
      const periods = await royalty.holderPeriods(ctx, pc.principal, holderId);
      const holder = await ctx.catalog.getHolder(holderId);
      const period = q.period && periods.includes(q.period) ? q.period : periods[0];
      const statement = period ? await royalty.holderStatement(ctx, pc.principal, holderId, period) : null;
      const zone = ctx.config.displayTimeZone;
      const now = ctx.now();
      const first = localDate(zone, now - (CHART_DAYS - 1) * 86_400_000);
      const recent = await detections.listDetections(
        ctx,
        pc.principal,
        {
          holderId,
          fromMs: now - (CHART_DAYS + 1) * 86_400_000,
          statuses: ['pending', 'confirmed', 'reassigned'],
          sort: 'time',
        },
        { limit: 10_000, offset: 0 },
      );
      const perDay = new Map<string, number>();
      for (let i = CHART_DAYS - 1; i >= 0; i--) perDay.set(localDate(zone, now - i * 86_400_000), 0);
      for (const d of recent.items) {
        const day = localDate(zone, d.startMs);
        if (day >= first && perDay.has(day)) perDay.set(day, perDay.get(day)! + 1);
      }
      const p = paging({ limit: 20, offset: Number(q.offset ?? 0) || 0 }, ctx.config);
      const list = await detections.listDetections(
        ctx,
        pc.principal,
        { holderId, statuses: ['pending', 'confirmed', 'reassigned'], sort: 'time' },
        p,
      );
      const tot = statement?.totals;
      return page(pc, {
        title: t('cabinet.title'),
        active: '/cabinet',
        body: html`<h1>${t('cabinet.title')}</h1>
          <p class="muted">
            ${holder?.name ?? holderId}${holder?.ipiNameNumber ? ` · IPI ${holder.ipiNameNumber}` : ''}
          </p>
          ${barChart({
            title: t('cabinet.chart', { days: CHART_DAYS }),
            points: [...perDay].map(([date, n]) => ({
              label: fmt.shortDay(date),
              value: n,
              text: fmt.number(n),
            })),
            labelHeader: t('common.date'),
            valueHeader: t('cabinet.airings'),
            tableCaption: t('common.chartTable'),
            labelEvery: 7,
          })}
          <h2 id="statements">${t('cabinet.statements')}</h2>
          ${
            !statement
              ? html`<p class="muted">${t('cabinet.noStatements')}</p>`
              : html`<form class="filters" method="get" action="/cabinet">
                    ${pc.principal?.user.role !== 'rights_holder' ? html`<input type="hidden" name="holder" value="${holderId}" />` : ''}
                    <div class="field">
                      <label for="s-period">${t('common.period')}</label
                      ><select id="s-period" name="period">
                        ${periods.map((x) => html`<option value="${x}" ${x === period ? html` selected` : ''}>${fmt.period(x)}</option>`)}
                      </select>
                    </div>
                    <button type="submit">${t('common.apply')}</button>
                    <a href="/api/v1/statements/${encodeURIComponent(holderId)}/${period}?format=csv" download
                      >${t('common.downloadCsv')}</a
                    >
                  </form>
                  <ul class="cards">
                    <li class="card">
                      <span class="num">${fmt.tiyn(tot!.grossTiyn)}</span
                      ><span class="lbl">${t('cabinet.gross')}</span>
                    </li>
                    <li class="card">
                      <span class="num">${fmt.tiyn(tot!.deductionTiyn)}</span
                      ><span class="lbl">${t('cabinet.deduction')}</span>
                    </li>
                    <li class="card">
                      <span class="num">${fmt.tiyn(tot!.netTiyn)}</span
                      ><span class="lbl">${t('cabinet.net')}</span>
                    </li>
                    <li class="card">
                      <span class="num">${fmt.tiyn(tot!.undistributedTiyn)}</span
                      ><span class="lbl">${t('cabinet.undistributed')}</span>
                    </li>
                    <li class="card">
                      <span class="num">${fmt.number(tot!.airings)}</span
                      ><span class="lbl"
                        >${t('cabinet.airings')} · ${fmt.duration(tot!.airtimeMs / 1000)}</span
                      >
                    </li>
                  </ul>
                  <div class="table-wrap">
                    <table class="stack">
                      <caption>
                        ${fmt.period(statement.period)}
                      </caption>
                      <thead>
                        <tr>
                          <th scope="col">${t('cabinet.line')}</th>
                          <th scope="col">${t('common.channel')}</th>
                          <th scope="col">${t('common.time')}</th>
                          <th scope="col">${t('common.recording')}</th>
                          <th scope="col">${t('catalogue.rightType')}</th>
                          <th scope="col" class="num">${t('cabinet.gross')}</th>
                          <th scope="col" class="num">${t('cabinet.deduction')}</th>
                          <th scope="col" class="num">${t('cabinet.net')}</th>
                          <th scope="col"><span class="sr-only">${t('cabinet.trace')}</span></th>
                        </tr>
                      </thead>
                      <tbody>
                        ${statement.lines.map(
                          (l) =>
                            html`<tr>
                              <th scope="row" data-label="${t('cabinet.line')}">
                                ${l.lineSeq}${l.kind === 'reversal' ? html` <span class="badge rejected">${t('cabinet.reversal')}</span>` : ''}
                              </th>
                              <td data-label="${t('common.channel')}">${l.channelName}</td>
                              <td data-label="${t('common.time')}">${fmt.localText(l.localStart)}</td>
                              <td data-label="${t('common.recording')}">
                                ${l.recordingTitle}${l.workTitle && l.workTitle !== l.recordingTitle ? html`<br /><span class="muted small">${l.workTitle}</span>` : ''}
                              </td>
                              <td data-label="${t('catalogue.rightType')}">
                                ${t(`right.${l.rightType}` as MessageKey)}${l.shareBp !== null ? html` · <span class="nowrap">${formatBp(l.shareBp)} %</span>` : ''}${l.reserveReason ? html`<br /><span class="small muted">${t('cabinet.reserve', { reason: RESERVE_REASON_TEXT[l.reserveReason as ReserveReason] ?? l.reserveReason })}</span>` : ''}
                              </td>
                              <td data-label="${t('cabinet.gross')}" class="num">${fmt.tiyn(l.grossTiyn)}</td>
                              <td data-label="${t('cabinet.deduction')}" class="num">
                                ${fmt.tiyn(l.deductionTiyn)}
                              </td>
                              <td data-label="${t('cabinet.net')}" class="num">${fmt.tiyn(l.netTiyn)}</td>
                              <td data-label="${t('cabinet.trace')}">
                                <a
                                  href="/cabinet/lines/${l.lineSeq}"
                                  aria-label="${t('cabinet.traceLong', { seq: l.lineSeq })}"
                                  >${t('cabinet.trace')}</a
                                >
                              </td>
                            </tr>`,
                        )}
                      </tbody>
                      <tfoot>
                        <tr>
                          <th scope="row" colspan="5">${t('common.total')}</th>
                          <td class="num">${fmt.tiyn(tot!.grossTiyn)}</td>
                          <td class="num">${fmt.tiyn(tot!.deductionTiyn)}</td>
                          <td class="num">${fmt.tiyn(tot!.netTiyn)}</td>
                          <td></td>
                        </tr>
                      </tfoot>
                    </table>
                  </div>`
          }
          <h2 id="airplay">
            ${t('cabinet.airplay')} <span class="muted small">(${fmt.number(list.total)})</span>
          </h2>
          ${
            list.items.length === 0
              ? html`<p class="muted">${t('cabinet.noAirplay')}</p>`
              : html`<div class="table-wrap">
                  <table class="stack">
                    <thead>
                      <tr>
                        <th scope="col">${t('common.recording')}</th>
                        <th scope="col">${t('common.channel')}</th>
                        <th scope="col">${t('common.time')}</th>
                        <th scope="col" class="num">${t('common.duration')}</th>
                        <th scope="col">${t('review.evidence')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      ${list.items.map(
                        (v) =>
                          html`<tr>
                            <th scope="row" data-label="${t('common.recording')}">
                              ${v.recordingTitle ?? v.recordingId}${v.isrc ? html`<br /><span class="muted small">${formatIsrc(v.isrc)}</span>` : ''}
                            </th>
                            <td data-label="${t('common.channel')}">${v.channelName}</td>
                            <td data-label="${t('common.time')}">${fmt.dateTime(v.startMs, v.timeZone)}</td>
                            <td data-label="${t('common.duration')}" class="num">
                              ${fmt.duration(v.durationSec)}
                            </td>
                            <td data-label="${t('review.evidence')}">${evidence(pc, v)}</td>
                          </tr>`,
                      )}
                    </tbody>
                  </table>
                </div>`
          }
          ${pager(pc, list.total, p.limit, p.offset)}`,
      });
    }),
  );

  app.get(
    '/cabinet/lines/:seq',
    pageRoute(ctx, async (pc) => {
      const { t, fmt } = pc;
      const seq = Number((pc.req.params as { seq: string }).seq);
      if (!Number.isInteger(seq) || seq < 1) throw new ApiError(404, 'not_found', 'no such line');
      const { trace: tr, explanation } = await royalty.traceLine(ctx, pc.principal, seq);
      const l = tr.line;
      const tz = tr.channel?.timeZone ?? ctx.config.displayTimeZone;
      const steps: Html[] = [];
      if (tr.detection && tr.channel) {
        const d = tr.detection;
        const off = d.evidenceStartMs === null ? 0 : Math.max(0, (d.startMs - d.evidenceStartMs) / 1000);
        steps.push(
          html`<li>
            <strong>${t('cabinet.step.airplay')}:</strong> ${tr.recording?.title ?? l.subjectId ?? ''} —
            ${tr.channel.name}, ${fmt.dateTime(d.startMs, tz)} – ${fmt.time(d.endMs, tz)}
            (${fmt.duration((d.endMs - d.startMs) / 1000)})
            ${d.evidencePath ? html`<br /><audio controls preload="none" aria-label="${t('review.evidence')}" src="/api/v1/detections/${encodeURIComponent(d.id)}/evidence#t=${off.toFixed(1)}"></audio>` : ''}
          </li>`,
        );
      }
      if (tr.weighing)
        steps.push(
          html`<li>
            <strong>${t('cabinet.step.weighing')}:</strong>
            ${t('cabinet.units', { sec: formatWeightedSec(tr.weighing.units) })}
          </li>`,
        );
      steps.push(
        html`<li>
          <strong>${t('cabinet.step.rule')}:</strong> ${tr.tariffName} —
          ${t('cabinet.version', { n: tr.tariffVersion.version, date: fmt.date(tr.tariffVersion.validFromMs) })}
          <span class="muted small">(${tr.tariffVersion.rulesHash.slice(0, 12)}…)</span>
        </li>`,
      );
      steps.push(
        html`<li>
          <strong>${t('cabinet.step.licence')}:</strong> ${tr.licensee.name} ↔ ${tr.cmo.name}
          (${tr.licence.id})
        </li>`,
      );
      if (tr.share && tr.holder) {
        const subject = tr.work ? tr.work.title : (tr.recording?.title ?? tr.share.subjectId);
        steps.push(
          html`<li>
            <strong>${t('cabinet.step.share')}:</strong> ${tr.holder.name}:
            ${t('cabinet.shareOf', { pct: formatBp(tr.share.shareBp), subject })} —
            ${t(`right.${tr.share.rightType}` as MessageKey)};
            ${t('cabinet.version', { n: tr.share.version, date: fmt.date(tr.share.validFromMs) })}
          </li>`,
        );
      }
      steps.push(
        html`<li>
          <strong>${t('cabinet.step.ledger')}:</strong>
          ${t('cabinet.entry', { seq: tr.entry.seq, hash: `${tr.entry.hash.slice(0, 16)}…` })},
          ${fmt.dateTime(tr.entry.createdAtMs)}
        </li>`,
      );
      const back =
        pc.principal?.user.role === 'rights_holder' ? `/cabinet${qs({ period: tr.entry.period })}` : null;
      return page(pc, {
        title: t('cabinet.lineTitle', { seq }),
        active: '/cabinet',
        body: html`<h1>${t('cabinet.lineTitle', { seq })}</h1>
          <ul class="cards">
            <li class="card">
              <span class="num">${fmt.tiyn(l.grossTiyn)}</span
              ><span class="lbl"
                >${t('cabinet.gross')}${l.reserveReason ? html` — ${t('cabinet.reserve', { reason: RESERVE_REASON_TEXT[l.reserveReason as ReserveReason] ?? l.reserveReason })}` : ''}</span
              >
            </li>
            <li class="card">
              <span class="num">${fmt.tiyn(l.deductionTiyn)}</span
              ><span class="lbl">${t('cabinet.deduction')}</span>
            </li>
            <li class="card">
              <span class="num">${fmt.tiyn(l.netTiyn)}</span><span class="lbl">${t('cabinet.net')}</span>
            </li>
          </ul>
          <h2>${t('cabinet.chain')}</h2>
          <ol class="chain">
            ${steps}
          </ol>
          <details>
            <summary>${t('cabinet.explanation')}</summary>
            <pre class="explain" lang="en">${explanation}</pre>
          </details>
          ${back ? html`<p><a href="${back}">← ${t('cabinet.statements')}</a></p>` : ''}`,
      });
    }),
  );
}
