import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext, Principal, Role } from '../api/index.js';
import { ASSETS } from './assets.js';
import { Fmt } from './format.js';
import { html, qs, raw, type Html } from './html.js';
import {
  LOCALES,
  LOCALE_NAMES,
  translator,
  type Locale,
  type MessageKey,
  type Translate,
} from './i18n/index.js';

/** Everything a page handler needs to render for this reader. */
export interface PageCtx {
  app: AppContext;
  req: FastifyRequest;
  reply: FastifyReply;
  locale: Locale;
  t: Translate;
  fmt: Fmt;
  principal: Principal | null;
  /** The session's CSRF token, for forms. */
  csrf: string;
  flash: Flash | null;
}

export interface Flash {
  kind: 'ok' | 'warn' | 'bad';
  key: MessageKey;
  params?: Record<string, string | number>;
  /** Literal text (e.g. a domain error message), shown after the translated text. */
  text?: string;
}

export function pageCtx(
  app: AppContext,
  req: FastifyRequest,
  reply: FastifyReply,
  locale: Locale,
  flash: Flash | null,
): PageCtx {
  return {
    app,
    req,
    reply,
    locale,
    t: translator(locale),
    fmt: new Fmt(locale, app.config.displayTimeZone),
    principal: req.principal,
    csrf: req.principal?.csrfToken ?? '',
    flash,
  };
}

interface NavItem {
  href: string;
  key: MessageKey;
  roles: Array<Role | 'public'>;
}

const NAV: NavItem[] = [
  {
    href: '/',
    key: 'nav.home',
    roles: [
      'public',
      'operator',
      'cmo_reviewer',
      'registrar',
      'broadcaster',
      'rights_holder',
      'capture_node',
    ],
  },
  { href: '/operator', key: 'nav.operator', roles: ['operator', 'cmo_reviewer'] },
  { href: '/review', key: 'nav.review', roles: ['operator', 'cmo_reviewer'] },
  { href: '/disputes', key: 'nav.disputes', roles: ['operator', 'cmo_reviewer'] },
  { href: '/catalogue', key: 'nav.catalogue', roles: ['operator', 'registrar', 'cmo_reviewer'] },
  { href: '/catalogue/enrol', key: 'nav.enrol', roles: ['operator', 'registrar'] },
  { href: '/catalogue/import', key: 'nav.import', roles: ['operator', 'registrar'] },
  { href: '/catalogue/conflicts', key: 'nav.conflicts', roles: ['operator', 'registrar', 'cmo_reviewer'] },
  { href: '/broadcaster', key: 'nav.broadcaster', roles: ['broadcaster'] },
  { href: '/cabinet', key: 'nav.cabinet', roles: ['rights_holder'] },
  { href: '/api/docs', key: 'nav.apiDocs', roles: ['operator', 'capture_node'] },
];

/** The page a role lands on after signing in. */
export function homeOf(role: Role | null): string {
  switch (role) {
    case 'operator':
      return '/operator';
    case 'cmo_reviewer':
      return '/review';
    case 'registrar':
      return '/catalogue';
    case 'broadcaster':
      return '/broadcaster';
    case 'rights_holder':
      return '/cabinet';
    default:
      return '/';
  }
}

/** The current URL with `lang` set (the language switcher's links; the server remembers the choice). */
function withLang(req: FastifyRequest, locale: Locale): string {
  const u = new URL(req.url, 'http://x');
  u.searchParams.set('lang', locale);
  return `${u.pathname}${u.search}`;
}

export function flashBox(pc: PageCtx): Html {
  const f = pc.flash;
  if (!f) return html``;
  return html`<div class="flash ${f.kind}" role="${f.kind === 'bad' ? 'alert' : 'status'}">
    ${pc.t(f.key, f.params)}${f.text ? html` ${f.text}` : ''}
  </div>`;
}

export function page(pc: PageCtx, opts: { title: string; body: Html; active?: string }): string {
  const { t, principal, req } = pc;
  const role: Role | 'public' = principal?.user.role ?? 'public';
  const path = new URL(req.url, 'http://x').pathname;
  const active = opts.active ?? path;
  const items = NAV.filter((n) => n.roles.includes(role));
  const doc = html`<!doctype html>
    <html lang="${pc.locale}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${opts.title} · ${t('app.name')}</title>
        <link rel="icon" href="/assets/${ASSETS.icon.hash}/icon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/assets/${ASSETS.css.hash}/app.css" />
        <script src="/assets/${ASSETS.js.hash}/app.js" defer></script>
      </head>
      <body>
        <a class="skip" href="#main">${t('nav.skip')}</a>
        <header class="top">
          <a class="brand" href="/">${t('app.name')}<small>${t('app.tagline')}</small></a>
          <nav class="main" aria-label="${t('nav.main')}">
            <ul>
              ${items.map(
                (n) =>
                  html`<li>
                    <a
                      href="${n.href}"
                      ${(n.href === '/' ? active === '/' : active === n.href || (n.href !== '/catalogue' && active.startsWith(`${n.href}/`))) ? raw(' aria-current="page"') : ''}
                      >${t(n.key)}</a
                    >
                  </li>`,
              )}
            </ul>
          </nav>
          <div class="top-right">
            <ul class="langs" aria-label="${t('lang.label')}">
              ${LOCALES.map(
                (l) =>
                  html`<li>
                    <a
                      href="${withLang(req, l)}"
                      lang="${l}"
                      hreflang="${l}"
                      ${l === pc.locale ? raw(' aria-current="true"') : ''}
                      >${LOCALE_NAMES[l]}</a
                    >
                  </li>`,
              )}
            </ul>
            ${
              principal
                ? html`<span
                      >${t('common.signedInAs', { name: principal.user.displayName, role: t(`role.${principal.user.role}` as MessageKey) })}</span
                    >
                    <form method="post" action="/logout">
                      <input type="hidden" name="_csrf" value="${pc.csrf}" /><button type="submit">
                        ${t('nav.logout')}
                      </button>
                    </form>`
                : path === '/login'
                  ? ''
                  : html`<a href="/login${qs({ next: path === '/' ? null : req.url })}">${t('nav.login')}</a>`
            }
          </div>
        </header>
        <main id="main" tabindex="-1">${flashBox(pc)} ${opts.body}</main>
        <footer>${t('app.name')} · ${t('app.tagline')}</footer>
      </body>
    </html>`;
  return doc.text;
}

/** Badge text and class for a status-like value. */
export function badge(pc: PageCtx, prefix: 'status' | 'usage' | 'dispute' | 'state', value: string): Html {
  const key = `${prefix}.${value}` as MessageKey;
  return html`<span class="badge ${value}">${pc.t(key)}</span>`;
}

/** Prev / next links for a list page; keeps the other query parameters. */
export function pager(pc: PageCtx, total: number, limit: number, offset: number): Html {
  if (total <= limit && offset === 0) return html``;
  const u = new URL(pc.req.url, 'http://x');
  const link = (o: number) => {
    u.searchParams.set('offset', String(o));
    return `${u.pathname}${u.search}`;
  };
  const to = Math.min(total, offset + limit);
  return html`<nav class="pager" aria-label="${pc.t('common.range', { from: offset + 1, to, total })}">
    ${offset > 0 ? html`<a href="${link(Math.max(0, offset - limit))}" rel="prev">${pc.t('common.previous')}</a>` : ''}
    <span>${pc.t('common.range', { from: total === 0 ? 0 : offset + 1, to, total })}</span>
    ${to < total ? html`<a href="${link(offset + limit)}" rel="next">${pc.t('common.next')}</a>` : ''}
  </nav>`;
}
