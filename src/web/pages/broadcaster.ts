import type { FastifyInstance } from 'fastify';
import { formatIsrc } from '../../catalog/index.js';
import {
  ApiError,
  actorOf,
  badInput,
  channels,
  field,
  fields,
  requireRole,
  royalty,
  type AppContext,
} from '../../api/index.js';
import { html, qs, type Html } from '../html.js';
import type { MessageKey } from '../i18n/index.js';
import { badge, page, type PageCtx } from '../layout.js';
import { pageRoute, redirectWithFlash, safeNext } from '../route.js';

type Query = Record<string, string | undefined>;

/** Whose usage: a broadcaster's own; an operator or a CMO reviewer may open one with ?licensee=. */
function licenseeOf(pc: PageCtx): string {
  const who = requireRole(pc.principal, 'broadcaster', 'operator', 'cmo_reviewer');
  if (who.user.role === 'broadcaster') return who.user.licenseeId!;
  const l = (pc.req.query as Query).licensee;
  if (!l) throw badInput('choose a licensee: ?licensee=ID');
  return l;
}

export function registerBroadcasterPages(app: FastifyInstance, ctx: AppContext): void {
  app.get(
    '/broadcaster',
    pageRoute(ctx, async (pc) => {
      const licenseeId = licenseeOf(pc);
      const { t, fmt } = pc;
      const q = pc.req.query as Query;
      const periods = await royalty.usagePeriods(ctx, pc.principal, licenseeId);
      const period = q.period && /^\d{4}-\d{2}$/.test(q.period) ? q.period : periods[0];
      const own = pc.principal?.user.role === 'broadcaster';
      const { items: chans } = own
        ? await channels.listChannels(ctx, pc.principal, { limit: 1000, offset: 0 })
        : { items: [] };
      const licences = await royalty.listLicences(ctx, pc.principal);
      const report = period ? await royalty.usageReport(ctx, pc.principal, licenseeId, period) : null;
      const cmoName = new Map(licences.map((l) => [l.cmoId, l.cmoName]));
      const cmos = report ? Object.keys(report.totals.byCmo).sort() : [];
      const canAct = own && report?.open === true;
      const back = pc.req.url;
      const disputeForms: Html[] = [];
      const rows = report?.rows ?? [];
      const body = html`<h1>${t('bc.title')}</h1>
        ${
          own
            ? html`<h2>${t('bc.channels')}</h2>
                <div class="table-wrap">
                  <table class="stack">
                    <thead>
                      <tr>
                        <th scope="col">${t('common.channel')}</th>
                        <th scope="col">${t('op.state')}</th>
                        <th scope="col" class="num">${t('op.uptime')}</th>
                        <th scope="col" class="num">${t('op.today')}</th>
                        <th scope="col"><span class="sr-only">${t('review.channelDay')}</span></th>
                      </tr>
                    </thead>
                    <tbody>
                      ${chans.map(
                        (c) =>
                          html`<tr>
                            <th scope="row" data-label="${t('common.channel')}">${c.name}</th>
                            <td data-label="${t('op.state')}">${badge(pc, 'state', c.status.state)}</td>
                            <td data-label="${t('op.uptime')}" class="num">
                              ${c.status.uptimeRatio === null ? '—' : fmt.percent(c.status.uptimeRatio)}
                            </td>
                            <td data-label="${t('op.today')}" class="num">
                              ${fmt.number(c.status.detectionsToday)}
                            </td>
                            <td data-label="${t('review.channelDay')}">
                              <a href="/review/timeline${qs({ channel: c.id })}">${t('review.channelDay')}</a>
                            </td>
                          </tr>`,
                      )}
                    </tbody>
                  </table>
                </div>`
            : ''
        }
        <h2 id="report">${t('bc.report')}</h2>
        ${
          periods.length === 0 || !report
            ? html`<p class="muted">${t('bc.noReport')}</p>`
            : html`<form class="filters" method="get" action="/broadcaster">
                  ${own ? '' : html`<input type="hidden" name="licensee" value="${licenseeId}" />`}
                  <div class="field">
                    <label for="u-period">${t('common.period')}</label
                    ><select id="u-period" name="period">
                      ${periods.map((x) => html`<option value="${x}" ${x === period ? html` selected` : ''}>${fmt.period(x)}</option>`)}
                    </select>
                  </div>
                  <button type="submit">${t('common.apply')}</button>
                  <a
                    href="/api/v1/usage-reports/${encodeURIComponent(licenseeId)}/${report.period}?format=csv"
                    download
                    >${t('common.downloadCsv')}</a
                  >
                  <a
                    href="/api/v1/usage-reports/${encodeURIComponent(licenseeId)}/${report.period}?format=cuesheet"
                    download
                    >${t('bc.cueSheet')}</a
                  >
                </form>
                ${
                  report.deadlineMs !== null
                    ? html`<p class="flash ${report.open ? 'warn' : 'ok'}">
                        ${report.open ? t('bc.deadline', { date: fmt.dateTime(report.deadlineMs) }) : t('bc.closed', { date: fmt.dateTime(report.deadlineMs) })}
                      </p>`
                    : ''
                }
                <h3>${t('bc.calculation')}</h3>
                <div class="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">${t('op.cmo')}</th>
                        <th scope="col">${t('bc.tariff')}</th>
                        <th scope="col" class="num">${t('common.amount')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      ${cmos.map((c) => {
                        const lic = licences.filter((l) => l.cmoId === c && l.licenseeId === licenseeId);
                        return html`<tr>
                          <th scope="row">${cmoName.get(c) ?? c}</th>
                          <td>${lic.map((l) => l.tariffName).join(', ')}</td>
                          <td class="num">${fmt.tiyn(report.totals.byCmo[c])}</td>
                        </tr>`;
                      })}
                    </tbody>
                    <tfoot>
                      <tr>
                        <th scope="row" colspan="2">
                          ${t('common.total')} · ${t('cabinet.airings')}: ${fmt.number(report.totals.airings)}
                          · ${t('bc.airtime')}: ${fmt.duration(report.totals.airtimeMs / 1000)}
                        </th>
                        <td class="num">${fmt.tiyn(report.totals.totalTiyn)}</td>
                      </tr>
                    </tfoot>
                  </table>
                </div>
                <form method="post" action="/broadcaster/confirm" aria-labelledby="report">
                  <input type="hidden" name="_csrf" value="${pc.csrf}" />
                  <input type="hidden" name="licensee" value="${licenseeId}" />
                  <input type="hidden" name="period" value="${report.period}" />
                  <input type="hidden" name="back" value="${back}" />
                  ${canAct ? html`<div class="actions"><button class="primary" type="submit" name="what" value="selected">${t('bc.confirmSelected')}</button><button type="submit" name="what" value="all">${t('bc.confirmAll')}</button></div>` : ''}
                  <div class="table-wrap">
                    <table class="stack">
                      <thead>
                        <tr>
                          ${canAct ? html`<th scope="col"><input type="checkbox" data-select-all="ids" aria-label="${t('common.selectAll')}" /></th>` : ''}
                          <th scope="col">${t('common.time')}</th>
                          <th scope="col">${t('common.channel')}</th>
                          <th scope="col">${t('common.recording')}</th>
                          <th scope="col" class="num">${t('bc.airtime')}</th>
                          ${cmos.map((c) => html`<th scope="col" class="num">${cmoName.get(c) ?? c}</th>`)}
                          <th scope="col" class="num">${t('common.total')}</th>
                          <th scope="col">${t('common.status')}</th>
                          ${canAct ? html`<th scope="col">${t('bc.dispute')}</th>` : ''}
                        </tr>
                      </thead>
                      <tbody>
                        ${rows.map((r) => {
                          const open = r.status === 'open';
                          const fid = `dispute-${r.detectionId}`;
                          if (canAct && open) {
                            disputeForms.push(
                              html`<form id="${fid}" method="post" action="/broadcaster/dispute">
                                <input type="hidden" name="_csrf" value="${pc.csrf}" /><input
                                  type="hidden"
                                  name="licensee"
                                  value="${licenseeId}"
                                /><input type="hidden" name="period" value="${report.period}" />
                                <input type="hidden" name="detectionId" value="${r.detectionId}" /><input
                                  type="hidden"
                                  name="back"
                                  value="${back}"
                                />
                              </form>`,
                            );
                          }
                          return html`<tr>
                            ${canAct ? html`<td data-label="${t('common.select')}">${open ? html`<input type="checkbox" name="ids" value="${r.detectionId}" aria-label="${t('review.selectRow', { id: r.detectionId })}" />` : ''}</td>` : ''}
                            <td data-label="${t('common.time')}">${fmt.localText(r.localStart)}</td>
                            <td data-label="${t('common.channel')}">${r.channelName}</td>
                            <td data-label="${t('common.recording')}">
                              ${r.title}${r.isrc ? html`<br /><span class="muted small">${formatIsrc(r.isrc)}</span>` : ''}
                            </td>
                            <td data-label="${t('bc.airtime')}" class="num">
                              ${fmt.duration(r.airtimeMs / 1000)}
                            </td>
                            ${cmos.map((c) => html`<td data-label="${cmoName.get(c) ?? c}" class="num">${fmt.tiyn(r.amounts.filter((a) => a.cmoId === c).reduce((s, a) => s + a.grossTiyn, 0))}</td>`)}
                            <td data-label="${t('common.total')}" class="num">${fmt.tiyn(r.totalTiyn)}</td>
                            <td data-label="${t('common.status')}">
                              ${badge(pc, 'usage', r.status)}${r.disputeId ? html`<br /><span class="muted small">${r.disputeId}</span>` : ''}
                            </td>
                            ${
                              canAct
                                ? html`<td data-label="${t('bc.dispute')}">
                                    ${
                                      open
                                        ? html`<label class="sr-only" for="reason-${r.detectionId}"
                                              >${t('bc.disputeReason')}</label
                                            ><input
                                              id="reason-${r.detectionId}"
                                              form="${fid}"
                                              name="reason"
                                              type="text"
                                              size="16"
                                              maxlength="2000"
                                              placeholder="${t('bc.disputeReason')}"
                                              required
                                            />
                                            <button form="${fid}" type="submit">${t('bc.dispute')}</button>`
                                        : ''
                                    }
                                  </td>`
                                : ''
                            }
                          </tr>`;
                        })}
                      </tbody>
                    </table>
                  </div>
                </form>
                ${disputeForms}`
        }`;
      return page(pc, { title: t('bc.title'), active: own ? '/broadcaster' : undefined, body });
    }),
  );

  app.post(
    '/broadcaster/confirm',
    pageRoute(ctx, async (pc) => {
      const b = pc.req.body;
      const back = safeNext(field(b, 'back'), '/broadcaster');
      try {
        const ids = field(b, 'what') === 'all' ? 'all' : fields(b, 'ids');
        const n = await royalty.confirmUsage(
          ctx,
          pc.principal,
          actorOf(pc.principal, pc.req.ip),
          field(b, 'licensee') ?? '',
          field(b, 'period') ?? '',
          ids,
        );
        return void redirectWithFlash(pc, back, { kind: 'ok', key: 'bc.confirmed', params: { n } });
      } catch (err) {
        if (err instanceof ApiError && err.statusCode < 500 && ![401, 403, 404].includes(err.statusCode)) {
          return void redirectWithFlash(pc, back, {
            kind: 'bad',
            key: 'error.badRequest' as MessageKey,
            text: err.message,
          });
        }
        throw err;
      }
    }),
  );

  app.post(
    '/broadcaster/dispute',
    pageRoute(ctx, async (pc) => {
      const b = pc.req.body;
      const back = safeNext(field(b, 'back'), '/broadcaster');
      try {
        const id = await royalty.disputeUsage(
          ctx,
          pc.principal,
          actorOf(pc.principal, pc.req.ip),
          field(b, 'licensee') ?? '',
          field(b, 'period') ?? '',
          field(b, 'detectionId') ?? '',
          field(b, 'reason') ?? '',
        );
        return void redirectWithFlash(pc, back, { kind: 'ok', key: 'bc.disputed', params: { id } });
      } catch (err) {
        if (err instanceof ApiError && err.statusCode < 500 && ![401, 403, 404].includes(err.statusCode)) {
          return void redirectWithFlash(pc, back, {
            kind: 'bad',
            key: 'error.badRequest',
            text: err.message,
          });
        }
        throw err;
      }
    }),
  );
}
