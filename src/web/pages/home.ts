import type { FastifyInstance } from 'fastify';
import {
  ApiError,
  checkLoginCsrf,
  cookieNames,
  field,
  issueLoginCsrf,
  logIn,
  logOut,
  stats,
  type AppContext,
} from '../../api/index.js';
import { barChart } from '../charts.js';
import { html } from '../html.js';
import { homeOf, page, type PageCtx } from '../layout.js';
import { pageRoute, safeNext } from '../route.js';

function loginForm(pc: PageCtx, next: string, error: string | null, username = ''): string {
  const token = issueLoginCsrf(pc.app, pc.reply);
  const { t } = pc;
  return page(pc, {
    title: t('login.title'),
    body: html`<div class="login">
      <h1>${t('login.title')}</h1>
      ${error ? html`<div class="flash bad" role="alert" id="login-error">${error}</div>` : ''}
      <form class="stack" method="post" action="/login">
        <input type="hidden" name="_csrf" value="${token}" />
        <input type="hidden" name="next" value="${next}" />
        <div class="field">
          <label for="username">${t('login.username')}</label>
          <input
            id="username"
            name="username"
            type="text"
            autocomplete="username"
            required
            value="${username}"
            ${error ? html` aria-describedby="login-error"` : ''}
          />
        </div>
        <div class="field">
          <label for="password">${t('login.password')}</label>
          <input id="password" name="password" type="password" autocomplete="current-password" required />
        </div>
        <div><button class="primary" type="submit">${t('login.submit')}</button></div>
      </form>
      <p class="muted small">${t('login.egov')}</p>
    </div>`,
  });
}

export function registerHomePages(app: FastifyInstance, ctx: AppContext): void {
  app.get(
    '/',
    pageRoute(ctx, async (pc) => {
      const { t, fmt } = pc;
      const s = await stats.publicStats(ctx);
      const points = s.detectionsPerDay.map((d) => ({
        label: fmt.shortDay(d.date),
        value: d.count,
        text: fmt.number(d.count),
      }));
      const money = s.accruedByPeriod.slice(-12);
      const role = pc.principal?.user.role ?? null;
      return page(pc, {
        title: t('home.title'),
        body: html`<h1>${t('home.title')}</h1>
          <p>${t('home.intro')}</p>
          ${role && homeOf(role) !== '/' ? html`<p><a class="button primary" href="${homeOf(role)}">${t('home.yourPage')}</a></p>` : ''}
          <ul class="cards">
            <li class="card">
              <span class="num">${fmt.number(s.channelsMonitored)}</span
              ><span class="lbl">${t('home.channels')}</span>
            </li>
            <li class="card">
              <span class="num">${fmt.number(s.recordingsInCatalogue)}</span
              ><span class="lbl"
                >${t('home.recordings')}<br />${t('home.enrolled', { n: fmt.number(s.recordingsEnrolled) })}</span
              >
            </li>
            <li class="card">
              <span class="num">${fmt.number(s.worksInCatalogue)}</span
              ><span class="lbl">${t('home.works')}</span>
            </li>
            <li class="card">
              <span class="num">${fmt.number(s.rightsHolders)}</span
              ><span class="lbl">${t('home.holders')}</span>
            </li>
            <li class="card">
              <span class="num">${fmt.number(s.detectionsLast30Days)}</span
              ><span class="lbl">${t('home.detections30')}</span>
            </li>
            <li class="card">
              <span class="num">${fmt.number(s.airtimeHoursLast30Days)}</span
              ><span class="lbl">${t('home.airtime30')}</span>
            </li>
          </ul>
          ${barChart({ title: t('home.perDay'), points, labelHeader: t('common.date'), valueHeader: t('home.detections30'), tableCaption: t('common.chartTable'), labelEvery: 5 })}
          <h2>${t('home.money')}</h2>
          ${
            money.length
              ? html`<div class="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">${t('common.period')}</th>
                        <th scope="col" class="num">${t('home.accrued')}</th>
                        <th scope="col" class="num">${t('home.undistributed')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      ${money.map(
                        (m) =>
                          html`<tr>
                            <th scope="row">${fmt.period(m.period)}</th>
                            <td class="num">${fmt.tiyn(m.accruedTiyn)}</td>
                            <td class="num">${fmt.tiyn(m.undistributedTiyn)}</td>
                          </tr>`,
                      )}
                    </tbody>
                  </table>
                </div>`
              : html`<p class="muted">${t('common.noResults')}</p>`
          }`,
      });
    }),
  );

  app.get(
    '/login',
    pageRoute(ctx, async (pc) => {
      const next = safeNext((pc.req.query as Record<string, unknown>).next, '');
      if (pc.principal) {
        pc.reply.code(303).redirect(next || homeOf(pc.principal.user.role));
        return;
      }
      return loginForm(pc, next, null);
    }),
  );

  app.post(
    '/login',
    pageRoute(ctx, async (pc) => {
      const body = pc.req.body;
      const next = safeNext(field(body, 'next'), '');
      const username = field(body, 'username') ?? '';
      try {
        checkLoginCsrf(ctx, pc.req);
        const { user } = await logIn(ctx, pc.req, pc.reply, 'password', {
          username,
          password: field(body, 'password') ?? '',
        });
        const langCookie = cookieNames(ctx.config.secureCookies).lang;
        if (user.locale && !pc.req.cookies[langCookie]) {
          pc.reply.setCookie(langCookie, user.locale, {
            path: '/',
            sameSite: 'lax',
            secure: ctx.config.secureCookies,
            maxAge: 365 * 86_400,
          });
        }
        pc.reply.code(303).redirect(next || homeOf(user.role));
        return;
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        const message =
          err.code === 'too_many_attempts'
            ? pc.t('login.tooMany', { sec: err.retryAfterSec ?? 60 })
            : err.code === 'csrf_failed'
              ? pc.t('login.expired')
              : pc.t('login.failed');
        if (err.retryAfterSec) pc.reply.header('retry-after', String(err.retryAfterSec));
        pc.reply.code(err.statusCode);
        return loginForm(pc, next, message, username);
      }
    }),
  );

  app.post(
    '/logout',
    pageRoute(ctx, async (pc) => {
      await logOut(ctx, pc.req, pc.reply);
      pc.reply.code(303).redirect('/');
    }),
  );
}
