import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireLogin, requireRole } from '../access.js';
import { actorOf } from '../audit.js';
import { AccountError } from '../auth/accounts.js';
import { checkLoginCsrf, logIn, logOut } from '../auth/http.js';
import { ROLES, type Role, type User } from '../auth/roles.js';
import type { AppContext } from '../context.js';
import { ApiError, badInput, notFound } from '../errors.js';
import { errorResponses } from '../schemas.js';

export function publicUser(u: User) {
  return {
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    role: u.role,
    cmoId: u.cmoId,
    licenseeId: u.licenseeId,
    holderId: u.holderId,
    locale: u.locale,
    disabled: u.disabled,
  };
}

const Me = Type.Object({ user: Type.Ref('User'), csrfToken: Type.Union([Type.String(), Type.Null()]) });
const TokenInfo = Type.Object({
  id: Type.String(),
  userId: Type.String(),
  name: Type.String(),
  createdAtMs: Type.Integer(),
  lastUsedMs: Type.Union([Type.Integer(), Type.Null()]),
  expiresAtMs: Type.Union([Type.Integer(), Type.Null()]),
  revokedAtMs: Type.Union([Type.Integer(), Type.Null()]),
});

/** Login, logout, who am I, API tokens, and user administration (operator). */
export function authRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['auth'];

    app.post(
      '/auth/login',
      {
        schema: {
          tags,
          summary: 'Log in with a username and password; sets the session cookie',
          security: [],
          body: Type.Object({
            username: Type.String({ minLength: 1, maxLength: 200 }),
            password: Type.String({ minLength: 1, maxLength: 1000 }),
            _csrf: Type.Optional(Type.String()),
          }),
          response: { 200: Me, 401: Type.Ref('Error'), 429: Type.Ref('Error') },
        },
      },
      async (req, reply) => {
        checkLoginCsrf(ctx, req);
        const { user, csrfToken } = await logIn(ctx, req, reply, 'password', {
          username: req.body.username,
          password: req.body.password,
        });
        return { user: publicUser(user), csrfToken };
      },
    );

    app.post(
      '/auth/login/:method',
      {
        schema: {
          tags,
          summary: 'Log in through another identity provider (e.g. a digital signature); see docs/api.md',
          security: [],
          params: Type.Object({ method: Type.String() }),
          body: Type.Record(Type.String(), Type.String()),
          response: { 200: Me, 401: Type.Ref('Error'), 404: Type.Ref('Error'), 429: Type.Ref('Error') },
        },
      },
      async (req, reply) => {
        checkLoginCsrf(ctx, req);
        const { user, csrfToken } = await logIn(ctx, req, reply, req.params.method, req.body);
        return { user: publicUser(user), csrfToken };
      },
    );

    app.post(
      '/auth/logout',
      { schema: { tags, summary: 'End the session', response: { 204: Type.Null() } } },
      async (req, reply) => {
        await logOut(ctx, req, reply);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/auth/me',
      {
        schema: {
          tags,
          summary: 'The caller and, for a session, its CSRF token',
          response: { 200: Me, 401: Type.Ref('Error') },
        },
      },
      async (req) => {
        const p = requireLogin(req.principal);
        return { user: publicUser(p.user), csrfToken: p.csrfToken };
      },
    );

    app.get(
      '/auth/tokens',
      {
        schema: {
          tags,
          summary: "The caller's API tokens (an operator: anyone's, with userId)",
          querystring: Type.Object({ userId: Type.Optional(Type.String()) }),
          response: { 200: Type.Object({ items: Type.Array(TokenInfo) }), ...errorResponses },
        },
      },
      async (req) => {
        const p = requireLogin(req.principal);
        const userId = req.query.userId && p.user.role === 'operator' ? req.query.userId : p.user.id;
        return { items: await ctx.accounts.listTokens(userId) };
      },
    );

    app.post(
      '/auth/tokens',
      {
        schema: {
          tags,
          summary:
            'Issue an API token (shown once). An operator may issue one for another account (a capture node)',
          body: Type.Object({
            name: Type.String({ minLength: 1, maxLength: 100 }),
            userId: Type.Optional(Type.String()),
            expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
          }),
          response: { 201: Type.Object({ token: Type.String(), info: TokenInfo }), ...errorResponses },
        },
      },
      async (req, reply) => {
        const p = requireLogin(req.principal);
        let userId = p.user.id;
        if (req.body.userId && req.body.userId !== p.user.id) {
          requireRole(p, 'operator');
          if (!(await ctx.accounts.getUser(req.body.userId))) throw notFound(`user ${req.body.userId}`);
          userId = req.body.userId;
        }
        const expires = req.body.expiresInDays ? ctx.now() + req.body.expiresInDays * 86_400_000 : null;
        const issued = await ctx.accounts.issueToken(userId, req.body.name, expires);
        await ctx.audit.record(
          actorOf(p, req.ip),
          'token.issue',
          { kind: 'api_token', id: issued.info.id },
          {
            userId,
            name: issued.info.name,
          },
        );
        return reply.code(201).send(issued);
      },
    );

    app.delete(
      '/auth/tokens/:id',
      {
        schema: {
          tags,
          summary: 'Revoke an API token',
          params: Type.Object({ id: Type.String() }),
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (req, reply) => {
        const p = requireLogin(req.principal);
        const ok = await ctx.accounts.revokeToken(
          req.params.id,
          p.user.role === 'operator' ? undefined : p.user.id,
        );
        if (!ok) throw notFound(`API token ${req.params.id}`);
        await ctx.audit.record(actorOf(p, req.ip), 'token.revoke', { kind: 'api_token', id: req.params.id });
        return reply.code(204).send(null);
      },
    );

    // --- users (operator) ------------------------------------------------------------------------

    app.get(
      '/users',
      {
        schema: {
          tags,
          summary: 'Every account (operator)',
          response: { 200: Type.Object({ items: Type.Array(Type.Ref('User')) }), ...errorResponses },
        },
      },
      async (req) => {
        requireRole(req.principal, 'operator');
        return { items: (await ctx.accounts.listUsers()).map(publicUser) };
      },
    );

    app.post(
      '/users',
      {
        schema: {
          tags,
          summary: 'Create an account (operator)',
          body: Type.Object({
            username: Type.String(),
            displayName: Type.Optional(Type.String()),
            role: Type.Union(ROLES.map((r) => Type.Literal(r))),
            cmoId: Type.Optional(Type.String()),
            licenseeId: Type.Optional(Type.String()),
            holderId: Type.Optional(Type.String()),
            iin: Type.Optional(Type.String()),
            password: Type.Union([Type.String(), Type.Null()]),
          }),
          response: { 201: Type.Ref('User'), ...errorResponses, 409: Type.Ref('Error') },
        },
      },
      async (req, reply) => {
        const p = requireRole(req.principal, 'operator');
        try {
          const user = await ctx.accounts.createUser({ ...req.body, role: req.body.role as Role });
          await ctx.audit.record(
            actorOf(p, req.ip),
            'user.create',
            { kind: 'user', id: user.id },
            {
              username: user.username,
              role: user.role,
            },
          );
          return reply.code(201).send(publicUser(user));
        } catch (err) {
          if (err instanceof AccountError && /is taken/.test(err.message))
            throw new ApiError(409, 'conflict', err.message);
          throw err;
        }
      },
    );

    app.patch(
      '/users/:id',
      {
        schema: {
          tags,
          summary: 'Disable or enable an account, or set its password (operator)',
          params: Type.Object({ id: Type.String() }),
          body: Type.Object({
            disabled: Type.Optional(Type.Boolean()),
            password: Type.Optional(Type.String()),
          }),
          response: { 200: Type.Ref('User'), ...errorResponses },
        },
      },
      async (req) => {
        const p = requireRole(req.principal, 'operator');
        const user = await ctx.accounts.getUser(req.params.id);
        if (!user) throw notFound(`user ${req.params.id}`);
        if (req.body.disabled === undefined && req.body.password === undefined)
          throw badInput('nothing to change');
        if (req.body.password !== undefined) await ctx.accounts.setPassword(user.id, req.body.password);
        if (req.body.disabled !== undefined) await ctx.accounts.setDisabled(user.id, req.body.disabled);
        await ctx.audit.record(
          actorOf(p, req.ip),
          'user.update',
          { kind: 'user', id: user.id },
          {
            disabled: req.body.disabled,
            passwordChanged: req.body.password !== undefined,
          },
        );
        return publicUser((await ctx.accounts.getUser(user.id))!);
      },
    );
  };
}
