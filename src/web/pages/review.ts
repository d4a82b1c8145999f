import type { FastifyInstance } from 'fastify';
import { localDate } from '../../catalog/index.js';
import {
  ApiError,
  actorOf,
  catalogue,
  channels,
  detections,
  field,
  fields,
  paging,
  parseTime,
  requireRole,
  royalty,
  type AppContext,
} from '../../api/index.js';
import { timeline } from '../charts.js';
import { html, qs, type Html } from '../html.js';
import type { MessageKey } from '../i18n/index.js';
import { badge, page, pager, type PageCtx } from '../layout.js';
import { pageRoute, redirectWithFlash, safeNext } from '../route.js';

type Query = Record<string, string | string[] | undefined>;
const one = (q: Query, k: string): string | undefined =>
  (Array.isArray(q[k]) ? (q[k] as string[])[0] : (q[k] as string | undefined)) || undefined;

/** The money column: accrued amount, or "≈ estimate", or a dash. */
export function moneyCell(pc: PageCtx, v: detections.DetectionView): Html {
  if (v.atStakeTiyn === null) return html`<span class="muted">—</span>`;
  return v.atStakeEstimated
    ? html`<span title="${pc.t('review.estimated')}">≈ ${pc.fmt.tiyn(v.atStakeTiyn)}</span>`
    : html`${pc.fmt.tiyn(v.atStakeTiyn)}`;
}

function evidenceOffsetSec(v: detections.DetectionView): number {
  return v.evidenceStartMs === null ? 0 : Math.max(0, (v.startMs - v.evidenceStartMs) / 1000);
}

function evidencePlayer(pc: PageCtx, v: detections.DetectionView, label: string): Html {
  if (!v.hasEvidence) return html`<span class="muted">${pc.t('review.noEvidence')}</span>`;
  return html`<audio
    controls
    preload="none"
    aria-label="${label}"
    src="/api/v1/detections/${encodeURIComponent(v.id)}/evidence#t=${evidenceOffsetSec(v).toFixed(1)}"
  ></audio>`;
}

function actionForm(pc: PageCtx, back: string, ids: string[] | null): Html {
  const { t } = pc;
  return html`<div class="actions" role="group" aria-label="${t('common.select')}">
    <input type="hidden" name="_csrf" value="${pc.csrf}" />
    <input type="hidden" name="back" value="${back}" />
    ${ids ? ids.map((id) => html`<input type="hidden" name="ids" value="${id}" />`) : ''}
    <button class="primary" type="submit" name="action" value="confirm">${t('review.confirm')}</button>
    <button class="danger" type="submit" name="action" value="reject" data-confirm="${t('review.reject')}?">
      ${t('review.reject')}
    </button>
    <div class="field">
      <label for="recordingId-${ids ? 'one' : 'bulk'}">${t('review.reassignTo')}</label>
      <input id="recordingId-${ids ? 'one' : 'bulk'}" name="recordingId" type="text" size="18" />
    </div>
    <button type="submit" name="action" value="reassign">${t('review.reassign')}</button>
    <div class="field">
      <label for="note-${ids ? 'one' : 'bulk'}">${t('common.note')}</label>
      <input id="note-${ids ? 'one' : 'bulk'}" name="note" type="text" size="24" maxlength="1000" />
    </div>
  </div>`;
}

export function registerReviewPages(app: FastifyInstance, ctx: AppContext): void {
  app.get(
    '/review',
    pageRoute(ctx, async (pc) => {
      requireRole(pc.principal, 'operator', 'cmo_reviewer');
      const { t, fmt } = pc;
      const q = pc.req.query as Query;
      const channelId = one(q, 'channel');
      const date = one(q, 'date');
      const status = one(q, 'status') ?? 'pending';
      const sort = (one(q, 'sort') ?? 'money') as detections.DetectionSort;
      const page0 = paging({ limit: 50, offset: Number(one(q, 'offset') ?? 0) || 0 }, ctx.config);
      const { items: chans } = await channels.listChannels(ctx, pc.principal, { limit: 1000, offset: 0 });
      let fromMs: number | null = null;
      let toMs: number | null = null;
      if (date) {
        const zone = chans.find((c) => c.id === channelId)?.timeZone ?? ctx.config.displayTimeZone;
        fromMs = parseTime(date, 'date', zone);
        toMs = fromMs + 86_400_000;
      }
      const { items, total } = await detections.listDetections(
        ctx,
        pc.principal,
        {
          channelId,
          fromMs,
          toMs,
          statuses: status === 'all' ? undefined : [status],
          sort: detections.DETECTION_SORTS.includes(sort) ? sort : 'money',
        },
        page0,
      );
      const back = pc.req.url;
      const today = localDate(ctx.config.displayTimeZone, ctx.now());
      return page(pc, {
        title: t('review.title'),
        body: html`<h1>${t('review.title')}</h1>
          <form class="filters" method="get" action="/review" aria-label="${t('review.filters')}">
            <div class="field">
              <label for="f-channel">${t('common.channel')}</label>
              <select id="f-channel" name="channel">
                <option value="">${t('common.all')}</option>
                ${chans.map((c) => html`<option value="${c.id}" ${c.id === channelId ? html` selected` : ''}>${c.name}</option>`)}
              </select>
            </div>
            <div class="field">
              <label for="f-date">${t('common.date')}</label
              ><input id="f-date" type="date" name="date" value="${date ?? ''}" max="${today}" />
            </div>
            <div class="field">
              <label for="f-status">${t('common.status')}</label>
              <select id="f-status" name="status">
                ${['pending', 'confirmed', 'rejected', 'reassigned', 'all'].map((s) => html`<option value="${s}" ${s === status ? html` selected` : ''}>${s === 'all' ? t('common.all') : t(`status.${s}` as MessageKey)}</option>`)}
              </select>
            </div>
            <div class="field">
              <label for="f-sort">${t('review.sort')}</label>
              <select id="f-sort" name="sort">
                ${detections.DETECTION_SORTS.map((s) => html`<option value="${s}" ${s === sort ? html` selected` : ''}>${t(`review.sort.${s}` as MessageKey)}</option>`)}
              </select>
            </div>
            <button type="submit">${t('common.apply')}</button>
            ${channelId ? html`<a href="/review/timeline${qs({ channel: channelId, date: date ?? today })}">${t('review.openTimeline')}</a>` : ''}
          </form>
          <h2 id="queue">${t('review.queue')} <span class="muted small">(${fmt.number(total)})</span></h2>
          ${
            items.length === 0
              ? html`<p class="muted">${t('common.noResults')}</p>`
              : html`<form method="post" action="/review/actions" aria-labelledby="queue">
                  <p class="muted small">${t('review.bulkHint')}</p>
                  ${actionForm(pc, back, null)}
                  <div class="table-wrap">
                    <table class="stack">
                      <thead>
                        <tr>
                          <th scope="col">
                            <input
                              type="checkbox"
                              data-select-all="ids"
                              aria-label="${t('common.selectAll')}"
                            />
                          </th>
                          <th scope="col">${t('common.time')}</th>
                          <th scope="col">${t('common.channel')}</th>
                          <th scope="col">${t('common.recording')}</th>
                          <th scope="col" class="num">${t('common.duration')}</th>
                          <th scope="col" class="num">${t('common.confidence')}</th>
                          <th scope="col" class="num">${t('review.atStake')}</th>
                          <th scope="col">${t('common.status')}</th>
                          <th scope="col">${t('review.evidence')}</th>
                        </tr>
                      </thead>
                      <tbody>
                        ${items.map(
                          (v) =>
                            html`<tr>
                              <td data-label="${t('common.select')}">
                                <input
                                  type="checkbox"
                                  name="ids"
                                  value="${v.id}"
                                  aria-label="${t('review.selectRow', { id: v.id })}"
                                />
                              </td>
                              <td data-label="${t('common.time')}">
                                <a href="/review/detections/${encodeURIComponent(v.id)}"
                                  >${fmt.dateTime(v.startMs, v.timeZone)}</a
                                >
                              </td>
                              <td data-label="${t('common.channel')}">${v.channelName}</td>
                              <td data-label="${t('common.recording')}">
                                ${v.recordingTitle ?? v.recordingId}<br /><span class="muted small"
                                  >${v.recordingId}</span
                                >
                              </td>
                              <td data-label="${t('common.duration')}" class="num">
                                ${fmt.duration(v.durationSec)}
                              </td>
                              <td data-label="${t('common.confidence')}" class="num">
                                ${fmt.percent(v.confidence)}
                              </td>
                              <td data-label="${t('review.atStake')}" class="num">${moneyCell(pc, v)}</td>
                              <td data-label="${t('common.status')}">${badge(pc, 'status', v.status)}</td>
                              <td data-label="${t('review.evidence')}">
                                ${evidencePlayer(pc, v, `${t('review.evidence')}: ${v.recordingTitle ?? v.recordingId}`)}
                              </td>
                            </tr>`,
                        )}
                      </tbody>
                    </table>
                  </div>
                </form>`
          }
          ${pager(pc, total, page0.limit, page0.offset)}`,
      });
    }),
  );

  app.post(
    '/review/actions',
    pageRoute(ctx, async (pc) => {
      const body = pc.req.body;
      const back = safeNext(field(body, 'back'), '/review');
      const action = field(body, 'action') as detections.ReviewAction;
      try {
        const out = await detections.reviewDetections(ctx, pc.principal, actorOf(pc.principal, pc.req.ip), {
          ids: fields(body, 'ids'),
          action,
          recordingId: action === 'reassign' ? field(body, 'recordingId') : null,
          note: field(body, 'note'),
        });
        return void redirectWithFlash(pc, back, {
          kind: 'ok',
          key: 'review.done',
          params: { n: out.updated },
        });
      } catch (err) {
        if (
          err instanceof ApiError &&
          err.statusCode < 500 &&
          err.statusCode !== 401 &&
          err.statusCode !== 403
        ) {
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

  app.get(
    '/review/detections/:id',
    pageRoute(ctx, async (pc) => {
      const { t, fmt } = pc;
      const id = (pc.req.params as { id: string }).id;
      const v = await detections.getDetection(ctx, pc.principal, id);
      const history = await detections.detectionHistory(ctx, pc.principal, id);
      const reviewer = pc.principal?.user.role === 'operator' || pc.principal?.user.role === 'cmo_reviewer';
      let reference: Html = html`<span class="muted">${t('review.noReference')}</span>`;
      try {
        await catalogue.referenceAudioPath(ctx, pc.principal, v.recordingId);
        reference = html`<audio
          controls
          preload="none"
          aria-label="${t('review.reference')}"
          src="/api/v1/recordings/${encodeURIComponent(v.recordingId)}/audio#t=${v.refStartSec.toFixed(1)}"
        ></audio>`;
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
      }
      const day = localDate(v.timeZone, v.startMs);
      return page(pc, {
        title: t('review.detection', { id: v.id }),
        active: reviewer ? '/review' : undefined,
        body: html`<h1>${v.recordingTitle ?? v.recordingId}</h1>
          <p class="muted">${t('review.detection', { id: v.id })} · ${badge(pc, 'status', v.status)}</p>
          <div class="players">
            <figure>
              <figcaption>
                <strong>${t('review.evidence')}</strong> · ${v.channelName},
                ${fmt.dateTime(v.startMs, v.timeZone)}
              </figcaption>
              ${evidencePlayer(pc, v, t('review.evidence'))}
            </figure>
            <figure>
              <figcaption>
                <strong>${t('review.reference')}</strong> · ${v.recordingId}${v.isrc ? ` · ${v.isrc}` : ''}
              </figcaption>
              ${reference}
            </figure>
          </div>
          <dl class="facts">
            <dt>${t('common.channel')}</dt>
            <dd>
              ${v.channelName}${reviewer ? html` · <a href="/review/timeline${qs({ channel: v.channelId, date: day })}">${t('review.openTimeline')}</a>` : ''}
            </dd>
            <dt>${t('common.time')}</dt>
            <dd>${fmt.dateTime(v.startMs, v.timeZone)} – ${fmt.time(v.endMs, v.timeZone)} (${v.timeZone})</dd>
            <dt>${t('common.duration')}</dt>
            <dd>${fmt.duration(v.durationSec)}</dd>
            <dt>${t('review.refSpan')}</dt>
            <dd>${fmt.duration(v.refStartSec)} – ${fmt.duration(v.refEndSec)}</dd>
            <dt>${t('review.speed')}</dt>
            <dd>${fmt.number(Math.round(v.speed * 1000) / 1000)}×</dd>
            <dt>${t('common.confidence')}</dt>
            <dd>${fmt.percent(v.confidence)}</dd>
            <dt>${t('review.atStake')}</dt>
            <dd>${moneyCell(pc, v)}</dd>
          </dl>
          ${reviewer ? html`<form method="post" action="/review/actions">${actionForm(pc, pc.req.url, [v.id])}</form>` : ''}
          <h2>${t('review.history')}</h2>
          ${
            history.length
              ? html`<ol>
                  ${history.map(
                    (h) =>
                      html`<li>
                        <strong>${t(`action.${h.action}` as MessageKey)}</strong> —
                        ${t('common.whoWhen', { who: h.actorName, when: fmt.dateTime(h.atMs) })}${
                          typeof h.detail.note === 'string' ? html`: <q>${h.detail.note}</q>` : ''
                        }${h.action === 'detection.reassign' ? html` (${String((h.detail.from as { recordingId?: string })?.recordingId ?? '')} → ${String((h.detail.to as { recordingId?: string })?.recordingId ?? '')})` : ''}
                      </li>`,
                  )}
                </ol>`
              : html`<p class="muted">${t('review.noHistory')}</p>`
          }`,
      });
    }),
  );

  app.get(
    '/review/timeline',
    pageRoute(ctx, async (pc) => {
      requireRole(pc.principal, 'operator', 'cmo_reviewer', 'broadcaster');
      const { t, fmt } = pc;
      const q = pc.req.query as Query;
      const { items: chans } = await channels.listChannels(ctx, pc.principal, { limit: 1000, offset: 0 });
      const channelId = one(q, 'channel') ?? chans[0]?.id;
      if (!channelId)
        return page(pc, {
          title: t('review.channelDay'),
          body: html`<h1>${t('review.channelDay')}</h1>
            <p>${t('common.noResults')}</p>`,
        });
      const day = await channels.channelDay(ctx, pc.principal, channelId, one(q, 'date') ?? null);
      const zone = day.channel.timeZone;
      // a time inside the day; with its date when a gap reaches outside it
      const at = (ms: number) =>
        ms >= day.startMs && ms < day.endMs ? fmt.time(ms, zone) : fmt.dateTime(ms, zone);
      const prev = localDate(zone, day.startMs - 3600_000);
      const next = localDate(zone, day.endMs + 3600_000);
      const items = day.detections.map((d) => ({
        startMs: d.startMs,
        endMs: d.endMs,
        label: `${fmt.time(d.startMs, zone)}–${fmt.time(d.endMs, zone)} ${d.recordingTitle ?? d.recordingId} (${t(`status.${d.status}` as MessageKey)})`,
        href: `/review/detections/${encodeURIComponent(d.id)}`,
        cls: `det-${d.status}`,
      }));
      const gaps = day.gaps.map((g) => ({
        startMs: g.startMs,
        endMs: g.endMs ?? Math.min(day.endMs, ctx.now()),
        label: `${at(g.startMs)}–${g.endMs ? at(g.endMs) : t('timeline.ongoing')} ${t(`gap.${g.reason}` as MessageKey)}`,
        cls: 'gap',
      }));
      const title = t('timeline.title', { channel: day.channel.name, date: fmt.day(day.date) });
      return page(pc, {
        title,
        active: '/review',
        body: html`<h1>${title}</h1>
          <form class="filters" method="get" action="/review/timeline">
            <div class="field">
              <label for="t-channel">${t('common.channel')}</label>
              <select id="t-channel" name="channel">
                ${chans.map((c) => html`<option value="${c.id}" ${c.id === channelId ? html` selected` : ''}>${c.name}</option>`)}
              </select>
            </div>
            <div class="field">
              <label for="t-date">${t('common.date')}</label
              ><input id="t-date" type="date" name="date" value="${day.date}" />
            </div>
            <button type="submit">${t('common.apply')}</button>
            <a href="/review/timeline${qs({ channel: channelId, date: prev })}" rel="prev"
              >← ${t('timeline.prevDay')}</a
            >
            <a href="/review/timeline${qs({ channel: channelId, date: next })}" rel="next"
              >${t('timeline.nextDay')} →</a
            >
          </form>
          ${day.heardRatio !== null ? html`<p>${t('timeline.heard', { pct: fmt.percent(day.heardRatio) })}</p>` : ''}
          <ul class="legend">
            ${(['pending', 'confirmed', 'rejected', 'reassigned'] as const).map((s) => html`<li><span class="sw det-${s}"></span>${t(`status.${s}`)}</li>`)}
            <li><span class="sw gap"></span>${t('timeline.legendGap')}</li>
          </ul>
          ${timeline({ title, startMs: day.startMs, endMs: day.endMs, items, gaps, hourLabel: (ms) => fmt.time(ms, zone).slice(0, 5), nowMs: ctx.now() })}
          <h2>${t('timeline.gaps')}</h2>
          ${
            day.gaps.length
              ? html`<div class="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">${t('common.from')}</th>
                        <th scope="col">${t('common.to')}</th>
                        <th scope="col" class="num">${t('common.duration')}</th>
                        <th scope="col">${t('common.reason')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      ${day.gaps.map(
                        (g) =>
                          html`<tr>
                            <td>${at(g.startMs)}</td>
                            <td>${g.endMs ? at(g.endMs) : t('timeline.ongoing')}</td>
                            <td class="num">${fmt.duration(((g.endMs ?? ctx.now()) - g.startMs) / 1000)}</td>
                            <td>
                              ${t(`gap.${g.reason}` as MessageKey)}${g.detail ? html` <span class="muted small">${g.detail}</span>` : ''}
                            </td>
                          </tr>`,
                      )}
                    </tbody>
                  </table>
                </div>`
              : html`<p class="muted">${t('timeline.noGaps')}</p>`
          }
          <h2>
            ${t('timeline.detections')}
            <span class="muted small">(${fmt.number(day.detections.length)})</span>
          </h2>
          ${
            day.detections.length
              ? html`<div class="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">${t('common.time')}</th>
                        <th scope="col">${t('common.recording')}</th>
                        <th scope="col" class="num">${t('common.duration')}</th>
                        <th scope="col">${t('common.status')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      ${day.detections.map(
                        (d) =>
                          html`<tr>
                            <td>
                              <a href="/review/detections/${encodeURIComponent(d.id)}"
                                >${fmt.time(d.startMs, zone)}</a
                              >
                            </td>
                            <td>${d.recordingTitle ?? d.recordingId}</td>
                            <td class="num">${fmt.duration(d.durationSec)}</td>
                            <td>${badge(pc, 'status', d.status)}</td>
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
    '/disputes',
    pageRoute(ctx, async (pc) => {
      requireRole(pc.principal, 'operator', 'cmo_reviewer');
      const { t, fmt } = pc;
      const list = await royalty.listDisputes(ctx, pc.principal, {});
      return page(pc, {
        title: t('disputes.title'),
        body: html`<h1>${t('disputes.title')}</h1>
          ${
            list.length === 0
              ? html`<p class="muted">${t('disputes.none')}</p>`
              : html`<div class="table-wrap">
                  <table class="stack">
                    <thead>
                      <tr>
                        <th scope="col">${t('common.id')}</th>
                        <th scope="col">${t('disputes.licensee')}</th>
                        <th scope="col">${t('common.period')}</th>
                        <th scope="col">${t('common.detection')}</th>
                        <th scope="col">${t('common.reason')}</th>
                        <th scope="col">${t('disputes.opened')}</th>
                        <th scope="col">${t('common.status')}</th>
                        <th scope="col">${t('disputes.resolution')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      ${list.map(
                        (d) =>
                          html`<tr>
                            <th scope="row" data-label="${t('common.id')}">${d.id}</th>
                            <td data-label="${t('disputes.licensee')}">${d.licenseeId}</td>
                            <td data-label="${t('common.period')}">${fmt.period(d.period)}</td>
                            <td data-label="${t('common.detection')}">
                              <a href="/review/detections/${encodeURIComponent(d.detectionId)}"
                                >${d.detectionId}</a
                              >
                            </td>
                            <td data-label="${t('common.reason')}">${d.reason}</td>
                            <td data-label="${t('disputes.opened')}">${fmt.dateTime(d.openedAtMs)}</td>
                            <td data-label="${t('common.status')}">${badge(pc, 'dispute', d.status)}</td>
                            <td data-label="${t('disputes.resolution')}">
                              ${
                                d.status === 'open'
                                  ? html`<form
                                      method="post"
                                      action="/disputes/${encodeURIComponent(d.id)}/resolve"
                                      class="inline"
                                    >
                                      <input type="hidden" name="_csrf" value="${pc.csrf}" />
                                      <div class="field">
                                        <label for="note-${d.id}">${t('common.note')}</label
                                        ><input
                                          id="note-${d.id}"
                                          name="note"
                                          type="text"
                                          required
                                          maxlength="2000"
                                        />
                                      </div>
                                      <button type="submit" name="accept" value="true">
                                        ${t('disputes.accept')}
                                      </button>
                                      <button type="submit" name="accept" value="false">
                                        ${t('disputes.rejectIt')}
                                      </button>
                                    </form>`
                                  : html`${d.resolution ?? ''}${d.resolvedAtMs ? html` <span class="muted small">${fmt.dateTime(d.resolvedAtMs)}</span>` : ''}`
                              }
                            </td>
                          </tr>`,
                      )}
                    </tbody>
                  </table>
                </div>`
          }`,
      });
    }),
  );

  app.post(
    '/disputes/:id/resolve',
    pageRoute(ctx, async (pc) => {
      const id = (pc.req.params as { id: string }).id;
      const body = pc.req.body;
      try {
        await royalty.resolveDispute(
          ctx,
          pc.principal,
          actorOf(pc.principal, pc.req.ip),
          id,
          field(body, 'accept') === 'true',
          field(body, 'note') ?? '',
        );
        return void redirectWithFlash(pc, '/disputes', {
          kind: 'ok',
          key: 'disputes.resolved',
          params: { id },
        });
      } catch (err) {
        if (
          err instanceof ApiError &&
          err.statusCode < 500 &&
          err.statusCode !== 401 &&
          err.statusCode !== 403 &&
          err.statusCode !== 404
        ) {
          return void redirectWithFlash(pc, '/disputes', {
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
