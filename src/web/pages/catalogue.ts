import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { CSV_FORMATS, formatBp, formatIsrc, formatIswc } from '../../catalog/index.js';
import {
  ApiError,
  actorOf,
  catalogue,
  detections,
  field,
  paging,
  requireRole,
  uploadedFile,
  type AppContext,
} from '../../api/index.js';
import { html, qs, type Html } from '../html.js';
import type { MessageKey } from '../i18n/index.js';
import { badge, page, pager, type PageCtx } from '../layout.js';
import { pageRoute } from '../route.js';

type Query = Record<string, string | undefined>;

function enrolForm(pc: PageCtx, values: Record<string, string> = {}): Html {
  const { t } = pc;
  const mb = Math.round(pc.app.config.uploadMaxBytes / 1024 ** 2);
  const text = (name: string, key: MessageKey, extra: Html | string = '') =>
    html`<div class="field">
      <label for="e-${name}">${t(key)}</label
      ><input id="e-${name}" name="${name}" type="text" value="${values[name] ?? ''}" ${extra} />
    </div>`;
  return html`<form class="stack" method="post" action="/catalogue/enrol" enctype="multipart/form-data">
    <input type="hidden" name="_csrf" value="${pc.csrf}" />
    ${text('title', 'common.title', html` required maxlength="300"`)}
    ${text('isrc', 'common.isrc', html` maxlength="15" placeholder="KZ-XXX-26-00001"`)}
    ${text('id', 'enrol.recId', html` maxlength="64"`)} ${text('workId', 'enrol.workId')}
    ${text('performerId', 'enrol.performerId')} ${text('producerId', 'enrol.producerId')}
    <div class="field">
      <label for="e-file">${t('enrol.file')}</label>
      <input
        id="e-file"
        name="file"
        type="file"
        accept="audio/*,.wav,.mp3,.flac,.ogg,.m4a,.aac"
        required
        aria-describedby="e-file-hint"
      />
      <span id="e-file-hint" class="muted small">${t('enrol.fileHint', { mb })}</span>
    </div>
    <div class="check">
      <input id="e-dup" name="allowDuplicate" type="checkbox" value="true" /><label for="e-dup"
        >${t('enrol.allowDuplicate')}</label
      >
    </div>
    <div><button class="primary" type="submit">${t('enrol.submit')}</button></div>
  </form>`;
}

export function registerCataloguePages(app: FastifyInstance, ctx: AppContext): void {
  app.get(
    '/catalogue',
    pageRoute(ctx, async (pc) => {
      requireRole(pc.principal, 'operator', 'registrar', 'cmo_reviewer');
      const { t, fmt } = pc;
      const q = pc.req.query as Query;
      const text = q.q?.trim() ?? '';
      const p = paging({ limit: 50, offset: Number(q.offset ?? 0) || 0 }, ctx.config);
      const { items, total } = await catalogue.searchRecordings(
        ctx,
        pc.principal,
        { q: text || undefined },
        p,
      );
      return page(pc, {
        title: t('catalogue.title'),
        body: html`<h1>${t('catalogue.title')}</h1>
          <form class="filters" method="get" action="/catalogue" role="search">
            <div class="field">
              <label for="c-q">${t('catalogue.searchLabel')}</label
              ><input id="c-q" type="search" name="q" value="${text}" size="32" />
            </div>
            <button type="submit">${t('common.search')}</button>
          </form>
          ${
            items.length === 0
              ? html`<p class="muted">${t('common.noResults')}</p>`
              : html`<div class="table-wrap">
                  <table class="stack">
                    <thead>
                      <tr>
                        <th scope="col">${t('common.title')}</th>
                        <th scope="col">${t('common.isrc')}</th>
                        <th scope="col">${t('catalogue.works')}</th>
                        <th scope="col">${t('catalogue.performers')}</th>
                        <th scope="col" class="num">${t('common.duration')}</th>
                        <th scope="col">${t('catalogue.fingerprint')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      ${items.map(
                        (r) =>
                          html`<tr>
                            <th scope="row" data-label="${t('common.title')}">
                              <a href="/catalogue/recordings/${encodeURIComponent(r.id)}">${r.title}</a
                              ><br /><span class="muted small">${r.id}</span>
                            </th>
                            <td data-label="${t('common.isrc')}">${r.isrc ? formatIsrc(r.isrc) : ''}</td>
                            <td data-label="${t('catalogue.works')}">${r.workTitles.join(', ')}</td>
                            <td data-label="${t('catalogue.performers')}">${r.performers.join(', ')}</td>
                            <td data-label="${t('common.duration')}" class="num">
                              ${r.durationMs !== null ? fmt.duration(r.durationMs / 1000) : ''}
                            </td>
                            <td data-label="${t('catalogue.fingerprint')}">
                              ${r.enrolled ? html`<span class="badge confirmed">${t('catalogue.enrolled')}</span>` : html`<span class="badge pending">${t('catalogue.notEnrolled')}</span>`}
                            </td>
                          </tr>`,
                      )}
                    </tbody>
                  </table>
                </div>`
          }
          ${pager(pc, total, p.limit, p.offset)}`,
      });
    }),
  );

  app.get(
    '/catalogue/recordings/:id',
    pageRoute(ctx, async (pc) => {
      const { t, fmt } = pc;
      const id = (pc.req.params as { id: string }).id;
      const d = await catalogue.recordingDetail(ctx, pc.principal, id);
      const r = d.recording;
      const names = new Map(d.holders.map((h) => [h.id, h.name]));
      const subjectTitle = (kind: string, sid: string) =>
        kind === 'work' ? (d.works.find((w) => w.id === sid)?.title ?? sid) : r.title;
      const role = pc.principal?.user.role;
      const airplay =
        role === 'operator' || role === 'cmo_reviewer' || role === 'rights_holder'
          ? await detections.listDetections(
              ctx,
              pc.principal,
              { recordingId: id, sort: 'time' },
              { limit: 20, offset: 0 },
            )
          : null;
      return page(pc, {
        title: r.title,
        active: role === 'rights_holder' ? '/cabinet' : '/catalogue',
        body: html`<h1>${r.title}</h1>
          <dl class="facts">
            <dt>${t('common.id')}</dt>
            <dd>${r.id}</dd>
            <dt>${t('common.isrc')}</dt>
            <dd>${r.isrc ? formatIsrc(r.isrc) : '—'}</dd>
            <dt>${t('common.duration')}</dt>
            <dd>${r.durationMs !== null ? fmt.duration(r.durationMs / 1000) : '—'}</dd>
            <dt>${t('catalogue.fingerprint')}</dt>
            <dd>
              ${
                d.enrolled
                  ? t('catalogue.enrolledAt', {
                      date: fmt.date(d.enrolled.enrolledAtMs),
                      sec: fmt.number(Math.round(d.enrolled.durationSec)),
                    })
                  : t('catalogue.notEnrolled')
              }
            </dd>
            <dt>${t('catalogue.performers')}</dt>
            <dd>${r.performerIds.map((p) => names.get(p) ?? p).join(', ') || '—'}</dd>
          </dl>
          ${d.hasReferenceAudio ? html`<p><audio controls preload="none" aria-label="${t('review.reference')}" src="/api/v1/recordings/${encodeURIComponent(r.id)}/audio"></audio></p>` : ''}
          <h2>${t('catalogue.works')}</h2>
          ${
            d.works.length
              ? html`<ul>
                  ${d.works.map((w) => html`<li>${w.title}${w.iswc ? html` <span class="muted">(${formatIswc(w.iswc)})</span>` : ''} — ${w.creators.map((c) => `${names.get(c.holderId) ?? c.holderId} (${c.role})`).join(', ')}</li>`)}
                </ul>`
              : html`<p class="muted">—</p>`
          }
          <h2>${t('catalogue.shares')}</h2>
          ${
            d.shares.length
              ? html`<div class="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">${t('conflicts.subject')}</th>
                        <th scope="col">${t('catalogue.rightType')}</th>
                        <th scope="col">${t('catalogue.holders')}</th>
                        <th scope="col" class="num">${t('catalogue.share')}</th>
                        <th scope="col">${t('catalogue.validFrom')}</th>
                        <th scope="col">${t('catalogue.validTo')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      ${d.shares.map(
                        (s) =>
                          html`<tr>
                            <td>${subjectTitle(s.subjectKind, s.subjectId)}</td>
                            <td>${t(`right.${s.rightType}` as MessageKey)}</td>
                            <td>${names.get(s.holderId) ?? s.holderId}</td>
                            <td class="num">${formatBp(s.shareBp)} %</td>
                            <td>${fmt.date(s.validFromMs)}</td>
                            <td>${s.validToMs === null ? '—' : fmt.date(s.validToMs)}</td>
                          </tr>`,
                      )}
                    </tbody>
                  </table>
                </div>`
              : html`<p class="muted">—</p>`
          }
          ${
            airplay
              ? html`<h2>
                    ${t('catalogue.detections')}
                    <span class="muted small">(${fmt.number(airplay.total)})</span>
                  </h2>
                  ${
                    airplay.items.length
                      ? html`<ul>
                          ${airplay.items.map((v) => html`<li><a href="/review/detections/${encodeURIComponent(v.id)}">${fmt.dateTime(v.startMs, v.timeZone)}</a> — ${v.channelName}, ${fmt.duration(v.durationSec)} ${badge(pc, 'status', v.status)}</li>`)}
                        </ul>`
                      : html`<p class="muted">${t('cabinet.noAirplay')}</p>`
                  }`
              : ''
          }`,
      });
    }),
  );

  app.get(
    '/catalogue/enrol',
    pageRoute(ctx, async (pc) => {
      requireRole(pc.principal, 'operator', 'registrar');
      const { t } = pc;
      return page(pc, {
        title: t('enrol.title'),
        body: html`<h1>${t('enrol.title')}</h1>
          <p>${t('enrol.intro')}</p>
          ${enrolForm(pc)}`,
      });
    }),
  );

  app.post(
    '/catalogue/enrol',
    pageRoute(ctx, async (pc) => {
      requireRole(pc.principal, 'operator', 'registrar');
      const { t } = pc;
      const b = pc.req.body;
      const values: Record<string, string> = Object.fromEntries(
        ['title', 'isrc', 'id', 'workId', 'performerId', 'producerId'].map((k) => [k, field(b, k) ?? '']),
      );
      let result: Html;
      let keep = values;
      try {
        const file = uploadedFile(b, 'file');
        if (!file) throw new ApiError(400, 'invalid_input', t('enrol.file'));
        const out = await catalogue.enrolUpload(ctx, pc.principal, actorOf(pc.principal, pc.req.ip), file, {
          title: values.title,
          isrc: values.isrc,
          id: values.id,
          workId: values.workId || undefined,
          performerId: values.performerId || undefined,
          producerId: values.producerId || undefined,
          allowDuplicate: field(b, 'allowDuplicate') === 'true',
        });
        if (out.status === 'enrolled') {
          keep = {};
          result = html`<div class="flash ok" role="status">
            ${t('enrol.ok', { id: out.recordingId, sec: pc.fmt.number(Math.round(out.durationSec)) })}
            <a href="/catalogue/recordings/${encodeURIComponent(out.recordingId)}">${t('common.details')}</a
            >${out.warnings.length ? html`<br /><span class="small">${out.warnings.join('; ')}</span>` : ''}
          </div>`;
        } else {
          pc.reply.code(409);
          result = html`<div class="flash warn" role="alert">
            ${t('enrol.duplicate', { id: out.duplicateOf ?? '?' })}
            ${out.duplicateOf ? html`<a href="/catalogue/recordings/${encodeURIComponent(out.duplicateOf)}">${out.duplicateOf}</a>` : ''}
          </div>`;
        }
      } catch (err) {
        if (
          !(err instanceof ApiError) ||
          err.statusCode >= 500 ||
          err.statusCode === 401 ||
          err.statusCode === 403
        )
          throw err;
        pc.reply.code(err.statusCode);
        result = html`<div class="flash bad" role="alert">
          ${t('enrol.failed', { message: err.message })}
        </div>`;
      }
      return page(pc, {
        title: t('enrol.title'),
        body: html`<h1>${t('enrol.title')}</h1>
          ${result}${enrolForm(pc, keep)}`,
      });
    }),
  );

  const importForm = (pc: PageCtx): Html => {
    const { t } = pc;
    return html`<form class="stack" method="post" action="/catalogue/import" enctype="multipart/form-data">
        <input type="hidden" name="_csrf" value="${pc.csrf}" />
        <div class="field">
          <label for="i-file">${t('import.file')}</label
          ><input
            id="i-file"
            name="file"
            type="file"
            accept=".csv,.txt,.cwr,.v21,.v22,text/csv,text/plain"
            required
          />
        </div>
        <div class="field">
          <label for="i-kind">${t('import.kind')}</label
          ><select id="i-kind" name="kind">
            <option value="auto">${t('import.kind.auto')}</option>
            ${['holders', 'works', 'recordings', 'shares', 'mandates'].map((k) => html`<option value="${k}">CSV: ${k}</option>`)}
            <option value="cwr">CWR 2.1 / 2.2</option>
          </select>
        </div>
        <div><button class="primary" type="submit">${t('import.submit')}</button></div>
      </form>
      <details>
        <summary>${t('import.formats')}</summary>
        <ul class="small">
          ${Object.entries(CSV_FORMATS).map(
            ([k, f]) =>
              html`<li>
                <strong>${k}</strong>: ${f.required.join(', ')}
                (${t('import.required')})${f.optional.length ? html`; ${f.optional.join(', ')} (${t('import.optional')})` : ''}
              </li>`,
          )}
        </ul>
      </details>`;
  };

  app.get(
    '/catalogue/import',
    pageRoute(ctx, async (pc) => {
      requireRole(pc.principal, 'operator', 'registrar');
      const { t } = pc;
      return page(pc, {
        title: t('import.title'),
        body: html`<h1>${t('import.title')}</h1>
          <p>${t('import.intro')}</p>
          ${importForm(pc)}`,
      });
    }),
  );

  app.post(
    '/catalogue/import',
    pageRoute(ctx, async (pc) => {
      requireRole(pc.principal, 'operator', 'registrar');
      const { t, fmt } = pc;
      const file = uploadedFile(pc.req.body, 'file');
      let report: Html;
      try {
        if (!file) throw new ApiError(400, 'invalid_input', t('import.file'));
        const kind = (field(pc.req.body, 'kind') ?? 'auto') as catalogue.ImportKind;
        const out = await catalogue.importCatalogue(
          ctx,
          pc.principal,
          actorOf(pc.principal, pc.req.ip),
          readFileSync(file.path, 'utf8'),
          kind,
          file.filename,
        );
        if (out.format === 'csv') {
          const r = out.report;
          report = html`<h2>${t('import.report', { name: `${file.filename} (${r.kind})` })}</h2>
            <p>
              <span class="badge confirmed">${t('import.accepted', { n: fmt.number(r.accepted) })}</span>
              <span class="badge ${r.rejected ? 'rejected' : 'confirmed'}"
                >${t('import.rejected', { n: fmt.number(r.rejected) })}</span
              >
            </p>
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col" class="num">${t('import.line')}</th>
                    <th scope="col">${t('import.result')}</th>
                    <th scope="col">${t('import.message')}</th>
                  </tr>
                </thead>
                <tbody>
                  ${r.rows.map(
                    (row) =>
                      html`<tr>
                        <td class="num">${row.line}</td>
                        <td>
                          <span class="badge ${row.status === 'accepted' ? 'confirmed' : 'rejected'}"
                            >${row.status}</span
                          >
                        </td>
                        <td>${row.message}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`;
        } else {
          const r = out.report;
          report = html`<h2>
              ${t('import.report', { name: `${file.filename} (CWR ${r.version}, ${r.sender})` })}
            </h2>
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col" class="num">${t('import.line')}</th>
                    <th scope="col">${t('common.work')}</th>
                    <th scope="col">${t('import.result')}</th>
                    <th scope="col">${t('import.message')}</th>
                  </tr>
                </thead>
                <tbody>
                  ${r.transactions.map(
                    (tx) =>
                      html`<tr>
                        <td class="num">${tx.line}</td>
                        <td>
                          ${tx.title}${tx.workId ? html`<br /><span class="muted small">${tx.workId}</span>` : ''}
                        </td>
                        <td>
                          <span
                            class="badge ${tx.status === 'TR' ? 'rejected' : tx.status === 'AS' ? 'confirmed' : 'pending'}"
                            >${tx.status}</span
                          >
                        </td>
                        <td>${tx.message}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`;
        }
      } catch (err) {
        if (
          !(err instanceof ApiError) ||
          err.statusCode >= 500 ||
          err.statusCode === 401 ||
          err.statusCode === 403
        )
          throw err;
        pc.reply.code(err.statusCode);
        report = html`<div class="flash bad" role="alert">${err.message}</div>`;
      }
      return page(pc, {
        title: t('import.title'),
        body: html`<h1>${t('import.title')}</h1>
          ${report}${importForm(pc)}`,
      });
    }),
  );

  app.get(
    '/catalogue/conflicts',
    pageRoute(ctx, async (pc) => {
      const { t, fmt } = pc;
      const list = await catalogue.shareConflicts(ctx, pc.principal);
      return page(pc, {
        title: t('conflicts.title'),
        body: html`<h1>${t('conflicts.title')}</h1>
          <p>${t('conflicts.intro')}</p>
          ${
            list.length === 0
              ? html`<p class="muted">${t('conflicts.none')}</p>`
              : html`<div class="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">${t('conflicts.subject')}</th>
                        <th scope="col">${t('catalogue.rightType')}</th>
                        <th scope="col" class="num">${t('common.total')}</th>
                        <th scope="col">${t('common.from')}</th>
                        <th scope="col">${t('common.to')}</th>
                        <th scope="col">${t('conflicts.since')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      ${list.map(
                        (c) =>
                          html`<tr>
                            <td>
                              ${c.subjectKind === 'recording' ? html`<a href="/catalogue/recordings/${encodeURIComponent(c.subjectId)}">${c.subjectId}</a>` : html`${t('common.work')} ${c.subjectId}`}
                            </td>
                            <td>${t(`right.${c.rightType}` as MessageKey)}</td>
                            <td class="num">${formatBp(c.totalBp)} %</td>
                            <td>${fmt.date(c.fromMs)}</td>
                            <td>${c.toMs === null ? '—' : fmt.date(c.toMs)}</td>
                            <td>${fmt.date(c.detectedAtMs)}</td>
                          </tr>`,
                      )}
                    </tbody>
                  </table>
                </div>`
          }`,
      });
    }),
  );
  void qs;
}
