import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { ApiError } from '../errors.js';
import { field } from '../http/forms.js';
import type { Principal, User } from './roles.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller, or null for the public. */
    principal: Principal | null;
  }
}

export interface CookieNames {
  session: string;
  /** Double-submit token of the login form (there is no session yet to hold one). */
  loginCsrf: string;
  lang: string;
}

/** `__Host-` cookies must be Secure, path /, without a domain: the browser then refuses them from any subdomain. */
export function cookieNames(secure: boolean): CookieNames {
  return secure
    ? { session: '__Host-tyndau-session', loginCsrf: '__Host-tyndau-login', lang: 'tyndau-lang' }
    : { session: 'tyndau-session', loginCsrf: 'tyndau-login', lang: 'tyndau-lang' };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function clientIp(req: FastifyRequest): string {
  return req.ip || 'unknown';
}

/**
 * Installs authentication on the root instance (so the API and the pages share it): a bearer token
 * or the session cookie sets `request.principal`; unsafe requests made with a session must carry the
 * session's CSRF token (form field `_csrf` or header `x-csrf-token`) and, when the browser says where
 * they come from, come from this origin.
 */
export function installAuth(app: FastifyInstance, ctx: AppContext): void {
  const names = cookieNames(ctx.config.secureCookies);
  app.decorateRequest('principal', null);

  app.addHook('onRequest', async (req) => {
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const m = /^Bearer\s+(\S+)$/i.exec(auth);
      const found = m ? await ctx.accounts.resolveToken(m[1]) : null;
      if (!found) throw new ApiError(401, 'unauthenticated', 'the API token is unknown, revoked or expired');
      req.principal = {
        user: found.user,
        via: 'token',
        sessionId: null,
        csrfToken: null,
        tokenId: found.tokenId,
      };
      return;
    }
    const secret = req.cookies[names.session];
    if (secret) {
      const found = await ctx.accounts.resumeSession(secret, ctx.config.sessionIdleMs);
      if (found) {
        req.principal = {
          user: found.user,
          via: 'session',
          sessionId: found.session.id,
          csrfToken: found.session.csrfToken,
          tokenId: null,
        };
      }
    }
  });

  app.addHook('preHandler', async (req) => {
    if (SAFE_METHODS.has(req.method)) return;
    const origin = req.headers.origin;
    if (origin && origin !== 'null') {
      let host: string | null = null;
      try {
        host = new URL(origin).host;
      } catch {
        host = null;
      }
      if (host !== req.headers.host)
        throw new ApiError(403, 'csrf_failed', `cross-site request from ${origin} refused`);
    }
    const p = req.principal;
    if (!p || p.via !== 'session') return;
    const sent = (req.headers['x-csrf-token'] as string | undefined) ?? field(req.body, '_csrf');
    if (!sent || !sameSecret(sent, p.csrfToken!)) {
      throw new ApiError(403, 'csrf_failed', 'missing or wrong CSRF token (reload the page and try again)');
    }
  });
}

/** A fresh login-form token, set as a cookie; the form echoes it in `_csrf`. */
export function issueLoginCsrf(ctx: AppContext, reply: FastifyReply): string {
  const token = randomBytes(18).toString('base64url');
  reply.setCookie(cookieNames(ctx.config.secureCookies).loginCsrf, token, {
    path: '/',
    httpOnly: true,
    secure: ctx.config.secureCookies,
    sameSite: 'strict',
    maxAge: 3600,
  });
  return token;
}

/** Checks the login form's double-submit token (forms only: cross-site JSON needs a CORS preflight). */
export function checkLoginCsrf(ctx: AppContext, req: FastifyRequest): void {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded') && !type.startsWith('multipart/')) return;
  const cookie = req.cookies[cookieNames(ctx.config.secureCookies).loginCsrf];
  const sent = field(req.body, '_csrf');
  if (!cookie || !sent || !sameSecret(cookie, sent)) {
    throw new ApiError(403, 'csrf_failed', 'the login form expired; reload the page and try again');
  }
}

/**
 * Logs in through an identity provider: counts failures (429 with Retry-After when too many), opens
 * a session, sets the cookie, writes the audit log. Returns the user and the session's CSRF token.
 */
export async function logIn(
  ctx: AppContext,
  req: FastifyRequest,
  reply: FastifyReply,
  method: string,
  credentials: Record<string, string>,
): Promise<{ user: User; csrfToken: string }> {
  const provider = ctx.identity.get(method);
  if (!provider) throw new ApiError(404, 'not_found', `no identity provider "${method}"`);
  const ip = clientIp(req);
  const account = provider.accountKey?.(credentials) ?? null;
  const waitMs = ctx.limiter.retryAfterMs(ip, account);
  if (waitMs > 0) {
    const sec = Math.ceil(waitMs / 1000);
    throw new ApiError(
      429,
      'too_many_attempts',
      `too many failed logins; try again in ${sec} s`,
      undefined,
      sec,
    );
  }
  const user = await provider.authenticate(credentials);
  if (!user) {
    ctx.limiter.fail(ip, account);
    await ctx.audit.record(
      { userId: null, name: account ?? '(unknown)', role: 'public', via: 'session', ip },
      'auth.login_failed',
      { kind: 'user', id: account ?? '(unknown)' },
      { method },
    );
    throw new ApiError(401, 'unauthenticated', 'wrong username or password');
  }
  const { cookieSecret, session } = await ctx.accounts.openSession(
    user.id,
    method,
    ctx.config.sessionMaxAgeMs,
    {
      ip,
      userAgent: req.headers['user-agent'] ?? null,
    },
  );
  const names = cookieNames(ctx.config.secureCookies);
  reply.setCookie(names.session, cookieSecret, {
    path: '/',
    httpOnly: true,
    secure: ctx.config.secureCookies,
    sameSite: 'lax',
    maxAge: Math.floor(ctx.config.sessionMaxAgeMs / 1000),
  });
  reply.clearCookie(names.loginCsrf, { path: '/' });
  await ctx.audit.record(
    { userId: user.id, name: user.username, role: user.role, via: 'session', ip },
    'auth.login',
    { kind: 'user', id: user.id },
    { method },
  );
  return { user, csrfToken: session.csrfToken };
}

export async function logOut(ctx: AppContext, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const p = req.principal;
  if (p?.sessionId) {
    await ctx.accounts.closeSession(p.sessionId);
    await ctx.audit.record(
      { userId: p.user.id, name: p.user.username, role: p.user.role, via: 'session', ip: clientIp(req) },
      'auth.logout',
      { kind: 'user', id: p.user.id },
    );
  }
  reply.clearCookie(cookieNames(ctx.config.secureCookies).session, { path: '/' });
}
