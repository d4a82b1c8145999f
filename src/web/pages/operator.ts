import type { FastifyInstance } from 'fastify';
import { ApiError, actorOf, field, requireRole, royalty, stats, type AppContext } from '../../api/index.js';
import { barChart, stackedBars } from '../charts.js';
import { html, qs } from '../html.js';
import { badge, page } from '../layout.js';
import { pageRoute, redirectWithFlash } from '../route.js';

type Query = Record<string, string | undefined>;

export function registerOperatorPages(app: FastifyInstance, ctx: AppContext): void {
  app.get(
    '/operator',
    pageRoute(ctx, async (pc) => {
      const who = requireRole(pc.principal, 'operator', 'cmo_reviewer');
      const { t, fmt } = pc;
      const q = pc.req.query as Query;
      const period = q.period && /^\d{4}-\d{2}$/.test(q.period) ? q.period : undefined;
      const s = await stats.operatorStats(ctx, pc.principal, period);
      const isOperator = who.user.role === 'operator';
      const audit = isOperator ? await ctx.audit.list({ limit: 15, offset: 0 }) : [];
      const listening = s.channels.filter(
        (c) => c.status.state === 'listening' || c.status.state === 'silent',
      ).length;
      const today = s.channels.reduce((n, c) => n + c.status.detectionsToday, 0);
      return page(pc, {
        title: t('op.title'),
        body: html`<h1>${t('op.title')}</h1>
          <ul class="cards">
            <li class="card">
              <span class="num">${fmt.number(listening)} / ${fmt.number(s.channels.length)}</span
              ><span class="lbl">${t('op.channels')} · ${t('state.listening')}</span>
            </li>
            <li class="card">
              <span class="num">${fmt.number(today)}</span><span class="lbl">${t('op.today')}</span>
            </li>
            <li class="card">
              <span class="num"><a href="/review">${fmt.number(s.pendingReview)}</a></span
              ><span class="lbl">${t('op.pending')}</span>
            </li>
            <li class="card">
              <span class="num"><a href="/disputes">${fmt.number(s.openDisputes)}</a></span
              ><span class="lbl">${t('op.openDisputes')}</span>
            </li>
          </ul>
          <h2>${t('op.channels')}</h2>
          <div class="table-wrap">
            <table class="stack">
              <thead>
                <tr>
                  <th scope="col">${t('common.channel')}</th>
                  <th scope="col">${t('op.state')}</th>
                  <th scope="col">${t('op.lastAudio')}</th>
                  <th scope="col" class="num">${t('op.uptime')}</th>
                  <th scope="col" class="num">${t('op.gaps24')}</th>
                  <th scope="col" class="num">${t('op.today')}</th>
                </tr>
              </thead>
              <tbody>
                ${s.channels.map(
                  (c) =>
                    html`<tr>
                      <th scope="row" data-label="${t('common.channel')}">
                        <a href="/review/timeline${qs({ channel: c.id })}">${c.name}</a><br /><span
                          class="muted small"
                          >${c.id}</span
                        >
                      </th>
                      <td data-label="${t('op.state')}">
                        ${badge(pc, 'state', c.status.state)}${c.status.detail ? html`<br /><span class="muted small">${c.status.detail}</span>` : ''}
                      </td>
                      <td data-label="${t('op.lastAudio')}">
                        ${c.status.lastAudioMs ? fmt.dateTime(c.status.lastAudioMs, c.timeZone) : '—'}
                      </td>
                      <td data-label="${t('op.uptime')}" class="num">
                        ${c.status.uptimeRatio === null ? '—' : fmt.percent(c.status.uptimeRatio)}
                      </td>
                      <td data-label="${t('op.gaps24')}" class="num">
                        ${fmt.number(c.gapsLast24h)} · ${fmt.duration(c.gapSecLast24h)}
                      </td>
                      <td data-label="${t('op.today')}" class="num">
                        ${fmt.number(c.status.detectionsToday)}
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>
          ${barChart({
            title: t('op.perDay'),
            points: s.detectionsPerDay.map((d) => ({
              label: fmt.shortDay(d.date),
              value: d.count,
              text: fmt.number(d.count),
            })),
            labelHeader: t('common.date'),
            valueHeader: t('review.queue'),
            tableCaption: t('common.chartTable'),
            labelEvery: 5,
          })}
          <h2>${t('op.money', { period: fmt.period(s.period) })}</h2>
          <form class="filters" method="get" action="/operator">
            <div class="field">
              <label for="o-period">${t('common.period')}</label
              ><input id="o-period" type="month" name="period" value="${s.period}" />
            </div>
            <button type="submit">${t('common.apply')}</button>
          </form>
          <div class="table-wrap">
            <table class="stack">
              <thead>
                <tr>
                  <th scope="col">${t('op.cmo')}</th>
                  <th scope="col" class="num">${t('op.collected')}</th>
                  <th scope="col" class="num">${t('op.accrued')}</th>
                  <th scope="col" class="num">${t('op.deducted')}</th>
                  <th scope="col" class="num">${t('op.net')}</th>
                  <th scope="col" class="num">${t('op.undistributed')}</th>
                </tr>
              </thead>
              <tbody>
                ${s.cmos.map(
                  (c) =>
                    html`<tr>
                      <th scope="row" data-label="${t('op.cmo')}">${c.cmoName}</th>
                      <td data-label="${t('op.collected')}" class="num">${fmt.tiyn(c.collectedTiyn)}</td>
                      <td data-label="${t('op.accrued')}" class="num">${fmt.tiyn(c.accruedTiyn)}</td>
                      <td data-label="${t('op.deducted')}" class="num">${fmt.tiyn(c.deductedTiyn)}</td>
                      <td data-label="${t('op.net')}" class="num">${fmt.tiyn(c.netTiyn)}</td>
                      <td data-label="${t('op.undistributed')}" class="num">
                        ${fmt.tiyn(c.undistributedTiyn)}
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>
          ${stackedBars({
            title: t('op.money', { period: fmt.period(s.period) }),
            categories: s.cmos.map((c) => c.cmoName),
            categoryHeader: t('op.cmo'),
            tableCaption: t('common.chartTable'),
            series: [
              {
                name: t('op.net'),
                cls: 's-net',
                values: s.cmos.map((c) => c.netTiyn),
                texts: s.cmos.map((c) => fmt.tiyn(c.netTiyn)),
              },
              {
                name: t('op.deducted'),
                cls: 's-deducted',
                values: s.cmos.map((c) => c.deductedTiyn),
                texts: s.cmos.map((c) => fmt.tiyn(c.deductedTiyn)),
              },
              {
                name: t('op.undistributed'),
                cls: 's-undistributed',
                values: s.cmos.map((c) => c.undistributedTiyn),
                texts: s.cmos.map((c) => fmt.tiyn(c.undistributedTiyn)),
              },
            ],
          })}
          <h2>${t('op.moneyByPeriod')}</h2>
          ${
            s.moneyByPeriod.length
              ? html`<div class="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">${t('common.period')}</th>
                        <th scope="col" class="num">${t('op.accrued')}</th>
                        <th scope="col" class="num">${t('op.deducted')}</th>
                        <th scope="col" class="num">${t('op.undistributed')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      ${s.moneyByPeriod.map(
                        (m) =>
                          html`<tr>
                            <th scope="row">
                              <a href="/operator${qs({ period: m.period })}">${fmt.period(m.period)}</a>
                            </th>
                            <td class="num">${fmt.tiyn(m.accruedTiyn)}</td>
                            <td class="num">${fmt.tiyn(m.deductedTiyn)}</td>
                            <td class="num">${fmt.tiyn(m.undistributedTiyn)}</td>
                          </tr>`,
                      )}
                    </tbody>
                  </table>
                </div>`
              : html`<p class="muted">${t('common.noResults')}</p>`
          }
          ${
            isOperator
              ? html`<h2>${t('op.runAccrual')}</h2>
                  <form class="inline" method="post" action="/operator/accrue">
                    <input type="hidden" name="_csrf" value="${pc.csrf}" />
                    <div class="field">
                      <label for="a-period">${t('common.period')}</label
                      ><input id="a-period" type="month" name="period" value="${s.period}" required />
                    </div>
                    <button class="primary" type="submit">${t('op.runAccrual')}</button>
                  </form>
                  <form class="inline" method="post" action="/operator/verify">
                    <input type="hidden" name="_csrf" value="${pc.csrf}" />
                    <button type="submit">${t('op.verify')}</button>
                  </form>
                  <h2>${t('op.audit')}</h2>
                  <div class="table-wrap">
                    <table>
                      <thead>
                        <tr>
                          <th scope="col">${t('common.time')}</th>
                          <th scope="col">${t('op.who')}</th>
                          <th scope="col">${t('op.what')}</th>
                          <th scope="col">${t('common.id')}</th>
                        </tr>
                      </thead>
                      <tbody>
                        ${audit.map(
                          (a) =>
                            html`<tr>
                              <td>${fmt.dateTime(a.atMs)}</td>
                              <td>${a.actorName} <span class="muted small">(${a.actorRole})</span></td>
                              <td>${a.action}</td>
                              <td>${a.subjectKind} ${a.subjectId}</td>
                            </tr>`,
                        )}
                      </tbody>
                    </table>
                  </div>`
              : ''
          }`,
      });
    }),
  );

  app.post(
    '/operator/accrue',
    pageRoute(ctx, async (pc) => {
      const period = field(pc.req.body, 'period') ?? '';
      try {
        const r = await royalty.runAccrual(
          ctx,
          pc.principal,
          actorOf(pc.principal, pc.req.ip),
          period,
          false,
        );
        const added = r.licences.reduce((n, l) => n + l.linesAdded, 0);
        const reversed = r.licences.reduce((n, l) => n + l.linesReversed, 0);
        return void redirectWithFlash(
          pc,
          `/operator${qs({ period })}`,
          r.changed
            ? {
                kind: 'ok',
                key: 'op.accrualDone',
                params: { period, rev: r.revision ?? '', added, reversed },
              }
            : { kind: 'ok', key: 'op.accrualNoChange', params: { period } },
        );
      } catch (err) {
        if (err instanceof ApiError && err.statusCode < 500 && ![401, 403].includes(err.statusCode)) {
          return void redirectWithFlash(pc, '/operator', {
            kind: 'bad',
            key: 'error.badRequest',
            text: err.message,
          });
        }
        throw err;
      }
    }),
  );

  app.post(
    '/operator/verify',
    pageRoute(ctx, async (pc) => {
      const r = await royalty.verifyLedger(ctx, pc.principal);
      requireRole(pc.principal, 'operator');
      return void redirectWithFlash(
        pc,
        '/operator',
        r.ok
          ? { kind: 'ok', key: 'op.verifyOk', params: { entries: r.entries, lines: r.lines } }
          : { kind: 'bad', key: 'op.verifyBad', params: { problem: JSON.stringify(r.problem) } },
      );
    }),
  );
}
