import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../context.js';
import { PeriodParam, errorResponses } from '../schemas.js';
import { operatorStats, publicStats } from '../services/stats.js';

const Open = (description: string) => Type.Object({}, { additionalProperties: true, description });

/** Statistics: aggregate figures for everyone, the dashboard for the operator and CMO reviewers. */
export function statsRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['stats'];

    app.get(
      '/stats/public',
      {
        schema: {
          tags,
          security: [],
          summary:
            'Aggregate statistics (no login): channels, catalogue size, detections per day, money per period',
          response: { 200: Open('aggregate figures only') },
        },
      },
      async () => publicStats(ctx),
    );

    app.get(
      '/stats/operator',
      {
        schema: {
          tags,
          summary:
            "The operator's dashboard (a CMO reviewer: its own CMO): channels, uptime, gaps, detections per day, money per CMO",
          querystring: Type.Object({ period: Type.Optional(PeriodParam) }),
          response: { 200: Open('dashboard figures'), ...errorResponses },
        },
      },
      async (req) => operatorStats(ctx, req.principal, req.query.period),
    );
  };
}
