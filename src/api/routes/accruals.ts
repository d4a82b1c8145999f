import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf } from '../audit.js';
import type { AppContext } from '../context.js';
import { PeriodParam, errorResponses } from '../schemas.js';
import {
  accrualRuns,
  listLicences,
  publishTariff,
  runAccrual,
  tariffDetail,
  verifyLedger,
} from '../services/royalty.js';

const Open = (description: string) => Type.Object({}, { additionalProperties: true, description });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const LicenceSchema = Type.Object({
  id: Type.String(),
  licenseeId: Type.String(),
  licenseeName: Type.String(),
  cmoId: Type.String(),
  cmoName: Type.String(),
  tariffId: Type.String(),
  tariffName: Type.String(),
  validFromMs: Type.Number(),
  validToMs: Nullable(Type.Number()),
});

/** Licences and tariff rules, accrual runs and the ledger. */
export function accrualRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['accruals'];

    app.get(
      '/licences',
      {
        schema: {
          tags,
          summary: "Licences the caller may see (a reviewer: its CMO's; a broadcaster: its own)",
          response: { 200: Type.Object({ items: Type.Array(LicenceSchema) }), ...errorResponses },
        },
      },
      async (req) => ({ items: await listLicences(ctx, req.principal) }),
    );

    app.get(
      '/tariffs/:id',
      {
        schema: {
          tags,
          summary: 'A tariff and its rule versions (immutable; each valid from a month start)',
          params: Type.Object({ id: Type.String() }),
          response: { 200: Open('id, cmoId, name, versions[]'), ...errorResponses },
        },
      },
      async (req) => tariffDetail(ctx, req.principal, req.params.id),
    );

    app.post(
      '/tariffs/:id/versions',
      {
        schema: {
          tags,
          summary: "Publish a new version of a tariff's rules (operator, or a reviewer of the tariff's CMO)",
          params: Type.Object({ id: Type.String() }),
          body: Type.Object({
            validFrom: Type.String({ description: 'the month it starts: YYYY-MM' }),
            rules: Type.Object(
              {},
              { additionalProperties: true, description: 'the rules document (docs/royalty.md)' },
            ),
          }),
          response: {
            201: Type.Object({ id: Type.String(), version: Type.Integer(), rulesHash: Type.String() }),
            409: Type.Ref('Error'),
            ...errorResponses,
          },
        },
      },
      async (req, reply) => {
        const out = await publishTariff(
          ctx,
          req.principal,
          actorOf(req.principal, req.ip),
          req.params.id,
          req.body.validFrom,
          req.body.rules,
        );
        return reply.code(201).send(out);
      },
    );

    app.post(
      '/accruals/runs',
      {
        schema: {
          tags,
          summary: 'Accrue a period (operator): appends what changed since the last run to the ledger',
          body: Type.Object({ period: PeriodParam, force: Type.Optional(Type.Boolean()) }),
          response: { 200: Open('the run summary per licence'), 409: Type.Ref('Error'), ...errorResponses },
        },
      },
      async (req) =>
        runAccrual(
          ctx,
          req.principal,
          actorOf(req.principal, req.ip),
          req.body.period,
          req.body.force ?? false,
        ),
    );

    app.get(
      '/accruals/runs',
      {
        schema: {
          tags,
          summary: "Accrual runs in the ledger, newest first (a reviewer sees its CMO's licences in each)",
          querystring: Type.Object({ period: Type.Optional(PeriodParam) }),
          response: { 200: Type.Object({ items: Type.Array(Open('an accrual run')) }), ...errorResponses },
        },
      },
      async (req) => ({ items: await accrualRuns(ctx, req.principal, req.query.period) }),
    );

    app.get(
      '/ledger/verify',
      {
        schema: {
          tags,
          summary: "Recompute the ledger's hash chain and report the first tampered entry or line, if any",
          response: { 200: Open('ok, entries, lines, head, problems'), ...errorResponses },
        },
      },
      async (req) => verifyLedger(ctx, req.principal),
    );
  };
}
