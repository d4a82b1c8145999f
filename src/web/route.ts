import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../api/index.js';
import { pageCtx, type Flash, type PageCtx } from './layout.js';

const FLASH_COOKIE = 'tyndau-flash';

export type PageHandler = (pc: PageCtx) => Promise<string | void>;

/** Route helper: builds the page context, renders, sends HTML. */
export function pageRoute(ctx: AppContext, handler: PageHandler) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    let flash: Flash | null = null;
    const raw = req.cookies[FLASH_COOKIE];
    if (raw) {
      try {
        flash = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Flash;
      } catch {
        flash = null;
      }
      reply.clearCookie(FLASH_COOKIE, { path: '/' });
    }
    const pc = pageCtx(ctx, req, reply, req.locale, flash);
    const out = await handler(pc);
    if (reply.sent) return reply;
    if (typeof out === 'string')
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(out);
    return reply;
  };
}

/** After a form post: a message for the next page, then a redirect there (post/redirect/get). */
export function redirectWithFlash(pc: PageCtx, to: string, flash: Flash): FastifyReply {
  pc.reply.setCookie(FLASH_COOKIE, Buffer.from(JSON.stringify(flash)).toString('base64url'), {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: pc.app.config.secureCookies,
    maxAge: 60,
  });
  return pc.reply.code(303).redirect(to);
}

/** Same-site paths only (an open redirect would let a link send a signed-in person anywhere). */
export function safeNext(next: unknown, fallback: string): string {
  return typeof next === 'string' && /^\/(?!\/)[^\s\\]*$/.test(next) && !next.startsWith('/api/')
    ? next
    : fallback;
}
