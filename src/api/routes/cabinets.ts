import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  cueSheetHeader,
  cueSheetRow,
  statementCsv,
  usageCsvHeader,
  usageCsvRow,
} from '../../royalty/index.js';
import { actorOf } from '../audit.js';
import type { AppContext } from '../context.js';
import { PeriodParam, errorResponses } from '../schemas.js';
import {
  confirmUsage,
  disputeUsage,
  holderPeriods,
  holderStatement,
  listDisputes,
  resolveDispute,
  traceLine,
  usagePeriods,
  usageReport,
} from '../services/royalty.js';

/** JSON has no bigint: exact integers (weighted units, micro coefficients) travel as decimal strings. */
export function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]));
  return value;
}

const Open = (description: string) => Type.Object({}, { additionalProperties: true, description });

/** The cabinets' data: rights holders' statements and line traces, broadcasters' usage reports and disputes. */
export function cabinetRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['cabinets'];

    app.get(
      '/statements/:holderId',
      {
        schema: {
          tags,
          summary: 'Periods for which a rights holder has statement lines',
          params: Type.Object({ holderId: Type.String() }),
          response: { 200: Type.Object({ periods: Type.Array(Type.String()) }), ...errorResponses },
        },
      },
      async (req) => ({ periods: await holderPeriods(ctx, req.principal, req.params.holderId) }),
    );

    app.get(
      '/statements/:holderId/:period',
      {
        schema: {
          tags,
          summary:
            "A rights holder's statement for a period: every line with its airing, rule and share; totals",
          params: Type.Object({ holderId: Type.String(), period: PeriodParam }),
          querystring: Type.Object({
            format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
          }),
          response: { 200: Open('holder, period, lines, totals'), ...errorResponses },
        },
      },
      async (req, reply) => {
        const s = await holderStatement(ctx, req.principal, req.params.holderId, req.params.period);
        if (req.query.format === 'csv') {
          reply.header('content-type', 'text/csv; charset=utf-8');
          reply.header(
            'content-disposition',
            `attachment; filename="statement-${s.holderId}-${s.period}.csv"`,
          );
          return reply.send(statementCsv(s));
        }
        return s;
      },
    );

    app.get(
      '/accrual-lines/:seq/trace',
      {
        schema: {
          tags,
          summary:
            'The chain behind one accrual line: airplay, tariff rule version, share version, licence, ledger entry',
          params: Type.Object({ seq: Type.Integer({ minimum: 1 }) }),
          response: {
            200: Type.Object({ trace: Open('everything the line points to'), explanation: Type.String() }),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const { trace, explanation } = await traceLine(ctx, req.principal, req.params.seq);
        return { trace: jsonSafe(trace) as Record<string, unknown>, explanation };
      },
    );

    app.get(
      '/usage-reports/:licenseeId',
      {
        schema: {
          tags,
          summary: 'Periods for which a licensee has usage reports',
          params: Type.Object({ licenseeId: Type.String() }),
          response: { 200: Type.Object({ periods: Type.Array(Type.String()) }), ...errorResponses },
        },
      },
      async (req) => ({ periods: await usagePeriods(ctx, req.principal, req.params.licenseeId) }),
    );

    app.get(
      '/usage-reports/:licenseeId/:period',
      {
        schema: {
          tags,
          summary:
            "A broadcaster's usage report: each airing, what each licence accrued for it, its confirmation status",
          params: Type.Object({ licenseeId: Type.String(), period: PeriodParam }),
          querystring: Type.Object({
            format: Type.Optional(
              Type.Union([Type.Literal('json'), Type.Literal('csv'), Type.Literal('cuesheet')]),
            ),
          }),
          response: { 200: Open('report info, rows, totals'), ...errorResponses },
        },
      },
      async (req, reply) => {
        const r = await usageReport(ctx, req.principal, req.params.licenseeId, req.params.period);
        if (req.query.format === 'csv' || req.query.format === 'cuesheet') {
          reply.header('content-type', 'text/csv; charset=utf-8');
          const kind = req.query.format === 'csv' ? 'usage' : 'cuesheet';
          reply.header(
            'content-disposition',
            `attachment; filename="${kind}-${r.licenseeId}-${r.period}.csv"`,
          );
          if (req.query.format === 'cuesheet')
            return reply.send(cueSheetHeader() + r.rows.map(cueSheetRow).join(''));
          const licences = [...new Set(r.rows.flatMap((x) => x.amounts.map((a) => a.licenceId)))].sort();
          return reply.send(usageCsvHeader(licences) + r.rows.map((x) => usageCsvRow(x, licences)).join(''));
        }
        return r;
      },
    );

    app.post(
      '/usage-reports/:licenseeId/:period/confirm',
      {
        schema: {
          tags,
          summary:
            'The broadcaster confirms usage lines (by detection id, or all open ones) before the deadline',
          params: Type.Object({ licenseeId: Type.String(), period: PeriodParam }),
          body: Type.Object({
            detectionIds: Type.Optional(Type.Array(Type.String(), { maxItems: 5000 })),
            all: Type.Optional(Type.Boolean()),
          }),
          response: {
            200: Type.Object({ confirmed: Type.Integer() }),
            409: Type.Ref('Error'),
            ...errorResponses,
          },
        },
      },
      async (req) => ({
        confirmed: await confirmUsage(
          ctx,
          req.principal,
          actorOf(req.principal, req.ip),
          req.params.licenseeId,
          req.params.period,
          req.body.all ? 'all' : (req.body.detectionIds ?? []),
        ),
      }),
    );

    app.post(
      '/usage-reports/:licenseeId/:period/disputes',
      {
        schema: {
          tags,
          summary: 'The broadcaster disputes one usage line, with a reason, before the deadline',
          params: Type.Object({ licenseeId: Type.String(), period: PeriodParam }),
          body: Type.Object({
            detectionId: Type.String(),
            reason: Type.String({ minLength: 1, maxLength: 2000 }),
          }),
          response: {
            201: Type.Object({ disputeId: Type.String() }),
            409: Type.Ref('Error'),
            ...errorResponses,
          },
        },
      },
      async (req, reply) => {
        const id = await disputeUsage(
          ctx,
          req.principal,
          actorOf(req.principal, req.ip),
          req.params.licenseeId,
          req.params.period,
          req.body.detectionId,
          req.body.reason,
        );
        return reply.code(201).send({ disputeId: id });
      },
    );

    app.get(
      '/disputes',
      {
        schema: {
          tags,
          summary: 'Usage disputes the caller may see',
          querystring: Type.Object({
            period: Type.Optional(PeriodParam),
            status: Type.Optional(
              Type.Union([Type.Literal('open'), Type.Literal('accepted'), Type.Literal('rejected')]),
            ),
          }),
          response: { 200: Type.Object({ items: Type.Array(Open('a dispute')) }), ...errorResponses },
        },
      },
      async (req) => ({ items: await listDisputes(ctx, req.principal, req.query) }),
    );

    app.post(
      '/disputes/:id/resolve',
      {
        schema: {
          tags,
          summary:
            'Accept or reject a dispute (operator, or a reviewer of a CMO licensing the broadcaster); accepting re-accrues the period',
          params: Type.Object({ id: Type.String() }),
          body: Type.Object({ accept: Type.Boolean(), note: Type.String({ minLength: 1, maxLength: 2000 }) }),
          response: { 200: Open('dispute, reaccrued'), 409: Type.Ref('Error'), ...errorResponses },
        },
      },
      async (req) =>
        resolveDispute(
          ctx,
          req.principal,
          actorOf(req.principal, req.ip),
          req.params.id,
          req.body.accept,
          req.body.note,
        ),
    );
  };
}
