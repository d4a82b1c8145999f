// The web app: server-rendered pages for every role over the API's services, in Kazakh, Russian and
// English (see docs/web.md). No build step; a small script only enhances what works without it.
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import {
  ApiError,
  buildServer,
  cookieNames,
  toErrorBody,
  type AppContext,
  type ServerOptions,
} from '../api/index.js';
import { ASSETS } from './assets.js';
import { html } from './html.js';
import { DEFAULT_LOCALE, fromAcceptLanguage, isLocale, type Locale, type MessageKey } from './i18n/index.js';
import { page, pageCtx } from './layout.js';
import { registerBroadcasterPages } from './pages/broadcaster.js';
import { registerCabinetPages } from './pages/cabinet.js';
import { registerCataloguePages } from './pages/catalogue.js';
import { registerHomePages } from './pages/home.js';
import { registerOperatorPages } from './pages/operator.js';
import { registerReviewPages } from './pages/review.js';

export { LOCALES, CATALOGUES, translator, type Locale } from './i18n/index.js';
export { Fmt } from './format.js';

declare module 'fastify' {
  interface FastifyRequest {
    locale: Locale;
  }
}

export { pageRoute, redirectWithFlash, safeNext, type PageHandler } from './route.js';

/** The reader's language: the remembered choice (cookie), the account's, the browser's, else Kazakh. */
function resolveLocale(ctx: AppContext, req: FastifyRequest): Locale {
  const cookie = req.cookies[cookieNames(ctx.config.secureCookies).lang];
  if (isLocale(cookie)) return cookie;
  const own = req.principal?.user.locale;
  if (isLocale(own)) return own;
  return fromAcceptLanguage(req.headers['accept-language']) ?? DEFAULT_LOCALE;
}

function errorPage(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const { statusCode, body } = toErrorBody(err);
  if (statusCode >= 500) req.log.error({ err }, 'page failed');
  if (statusCode === 401) return reply.code(303).redirect(`/login?next=${encodeURIComponent(req.url)}`);
  const pc = pageCtx(ctx, req, reply, req.locale ?? DEFAULT_LOCALE, null);
  const [titleKey, textKey]: [MessageKey, MessageKey | null] =
    statusCode === 404
      ? ['error.notFound', 'error.notFoundText']
      : statusCode === 403
        ? ['error.forbidden', 'error.forbiddenText']
        : statusCode < 500
          ? ['error.badRequest', null]
          : ['error.title', null];
  const text = html`<h1>${pc.t(titleKey)}</h1>
    <p>${textKey ? pc.t(textKey) : body.error.message}</p>
    <p><a href="/">${pc.t('error.home')}</a></p>`;
  return reply
    .code(statusCode)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(page(pc, { title: pc.t(titleKey), body: text }));
}

/** The pages, as one Fastify plugin (its own error handler renders HTML instead of JSON). */
export function webRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    app.decorateRequest('locale', DEFAULT_LOCALE);
    const names = cookieNames(ctx.config.secureCookies);

    app.addHook('onRequest', async (req, reply) => {
      req.locale = resolveLocale(ctx, req);
      const asked = (req.query as Record<string, unknown> | undefined)?.lang;
      if (req.method === 'GET' && isLocale(asked)) {
        // remember the choice (cookie, and the account when signed in), then show the same page without ?lang
        reply.setCookie(names.lang, asked, {
          path: '/',
          sameSite: 'lax',
          secure: ctx.config.secureCookies,
          maxAge: 365 * 86_400,
        });
        if (req.principal) await ctx.accounts.setLocale(req.principal.user.id, asked);
        const u = new URL(req.url, 'http://x');
        u.searchParams.delete('lang');
        return reply.code(303).redirect(`${u.pathname}${u.search}`);
      }
    });

    app.setErrorHandler((err, req, reply) => errorPage(ctx, req, reply, err));

    for (const [name, asset] of [
      ['app.css', ASSETS.css],
      ['app.js', ASSETS.js],
      ['icon.svg', ASSETS.icon],
    ] as const) {
      app.get(`/assets/:hash/${name}`, { schema: { hide: true } }, async (_req, reply) =>
        reply
          .type(asset.type)
          .header('cache-control', 'public, max-age=31536000, immutable')
          .send(asset.body),
      );
    }
    app.get('/favicon.ico', { schema: { hide: true } }, async (_req, reply) =>
      reply.type(ASSETS.icon.type).header('cache-control', 'public, max-age=86400').send(ASSETS.icon.body),
    );

    registerHomePages(app, ctx);
    registerReviewPages(app, ctx);
    registerCataloguePages(app, ctx);
    registerCabinetPages(app, ctx);
    registerBroadcasterPages(app, ctx);
    registerOperatorPages(app, ctx);
  };
}

/** The API and the web app together: what `tyndau serve` and `npm start` run. */
export function buildWebApp(opts: ServerOptions) {
  return buildServer(opts, [
    {
      plugin: webRoutes,
      notFound: (ctx) => (req, reply) => {
        req.locale = resolveLocale(ctx, req);
        return errorPage(ctx, req, reply, new ApiError(404, 'not_found', 'no such page'));
      },
    },
  ]);
}
