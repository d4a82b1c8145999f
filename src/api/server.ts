import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { installAuth } from './auth/http.js';
import { buildContext, type AppContext, type ServerOptions } from './context.js';
import { toErrorBody } from './errors.js';
import { registerFormParser } from './http/forms.js';
import { installUploads } from './http/uploads.js';
import { accrualRoutes } from './routes/accruals.js';
import { authRoutes } from './routes/auth.js';
import { cabinetRoutes } from './routes/cabinets.js';
import { catalogueRoutes } from './routes/catalogue.js';
import { channelRoutes } from './routes/channels.js';
import { detectionRoutes } from './routes/detections.js';
import { statsRoutes } from './routes/stats.js';
import { ErrorSchema, UserSchema } from './schemas.js';

export const API_PREFIX = '/api/v1';

/**
 * Builds the HTTP server: the REST API under /api/v1 (OpenAPI at /api/openapi.json, interactive docs
 * at /api/docs), plus `extensions` (the web app's pages: src/web buildWebApp). One plugin per area, each with its
 * schemas beside its handlers; everything they share travels in the AppContext, nothing is global.
 * Tests call this with a temporary store and use `app.inject`; `tyndau serve` listens with it.
 */
export interface ServerExtension {
  /** A plugin built from the context (the web app's pages). */
  plugin: (ctx: AppContext) => FastifyPluginAsync;
  /** Answers unknown paths outside /api/ (an HTML page instead of the JSON error). */
  notFound?: (ctx: AppContext) => (req: FastifyRequest, reply: FastifyReply) => unknown;
}

export async function buildServer(
  opts: ServerOptions,
  extensions: ServerExtension[] = [],
): Promise<{ app: FastifyInstance; ctx: AppContext }> {
  const ctx = buildContext(opts);
  const app = Fastify({
    logger: opts.logLevel ? { level: opts.logLevel } : false,
    bodyLimit: 2 * 1024 * 1024,
    trustProxy: false,
    ajv: {
      customOptions: { coerceTypes: 'array', removeAdditional: true, useDefaults: true, allErrors: false },
    },
  });

  app.setErrorHandler((err, req, reply) => {
    const { statusCode, body, retryAfterSec } = toErrorBody(err);
    if (statusCode >= 500) req.log.error({ err }, 'request failed');
    if (retryAfterSec) reply.header('retry-after', String(retryAfterSec));
    return reply.code(statusCode).send(body);
  });
  const pageNotFound = extensions.map((e) => e.notFound?.(ctx)).find((f) => f !== undefined);
  app.setNotFoundHandler((req, reply) => {
    if (pageNotFound && !req.url.startsWith('/api/')) return pageNotFound(req, reply);
    return reply.code(404).send({
      error: {
        statusCode: 404,
        code: 'not_found',
        message: `no route ${req.method} ${req.url.split('?')[0]}`,
      },
    });
  });

  await app.register(cookie);
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        mediaSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        upgradeInsecureRequests: null,
      },
    },
    // plain-HTTP demos on localhost must not be told to switch to HTTPS
    strictTransportSecurity: opts.config?.secureCookies === false ? false : undefined,
  });
  registerFormParser(app, ctx.config.importMaxBytes);
  await app.register(multipart, {
    attachFieldsToBody: 'keyValues',
    onFile: installUploads(app),
    limits: { fileSize: ctx.config.uploadMaxBytes, files: 1, fields: 50 },
  });

  app.addSchema(ErrorSchema);
  app.addSchema(UserSchema);
  await app.register(swagger, {
    // the web app's page routes have no tags: the document lists the API only
    hideUntagged: true,
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tyndau API',
        version: '1',
        description:
          'Airplay monitoring and royalty accrual. Authenticate with the session cookie (web) or an API token ' +
          '(`Authorization: Bearer tyd_...`). Requests made with the session cookie that change something must ' +
          'send the session\'s CSRF token in `x-csrf-token`. Errors have one shape: `{ "error": { statusCode, code, message } }`. ' +
          'Lists take `limit` and `offset` and answer `{ items, total, limit, offset, nextOffset }`.',
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: '__Host-tyndau-session' },
          token: { type: 'http', scheme: 'bearer', description: 'an API token: tyd_...' },
        },
      },
      security: [{ session: [] }, { token: [] }],
      tags: [
        { name: 'auth', description: 'log in and out, API tokens, users' },
        { name: 'channels', description: 'monitored channels, their health and gaps' },
        { name: 'detections', description: 'airplay detections, evidence audio, review' },
        { name: 'catalogue', description: 'recordings, works, rights holders, enrolment, bulk import' },
        { name: 'accruals', description: 'licences, tariffs, accrual runs, the ledger' },
        { name: 'cabinets', description: 'statements, usage reports, confirmations and disputes' },
        { name: 'stats', description: 'operator and public statistics' },
      ],
    },
    refResolver: {
      buildLocalReference: (json, _base, _frag, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/api/docs',
    staticCSP: false,
    uiConfig: { docExpansion: 'list' },
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  installAuth(app, ctx);

  await app.register(authRoutes(ctx), { prefix: API_PREFIX });
  await app.register(channelRoutes(ctx), { prefix: API_PREFIX });
  await app.register(detectionRoutes(ctx), { prefix: API_PREFIX });
  await app.register(catalogueRoutes(ctx), { prefix: API_PREFIX });
  await app.register(accrualRoutes(ctx), { prefix: API_PREFIX });
  await app.register(cabinetRoutes(ctx), { prefix: API_PREFIX });
  await app.register(statsRoutes(ctx), { prefix: API_PREFIX });

  for (const ext of extensions) await app.register(ext.plugin(ctx));
  return { app, ctx };
}
