import { readFileSync } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf } from '../audit.js';
import type { AppContext } from '../context.js';
import { badInput } from '../errors.js';
import { field } from '../http/forms.js';
import { pageBody, paging } from '../http/query.js';
import { sendFileWithRanges } from '../http/range.js';
import { uploadedFile } from '../http/uploads.js';
import { PageQuery, errorResponses, pageOf } from '../schemas.js';
import {
  enrolUpload,
  importCatalogue,
  recordingDetail,
  referenceAudioPath,
  searchHolders,
  searchRecordings,
  searchWorks,
  shareConflicts,
  workDetail,
  type ImportKind,
} from '../services/catalogue.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const Open = (description: string) => Type.Object({}, { additionalProperties: true, description });

const RecordingSummary = Type.Object({
  id: Type.String(),
  isrc: Nullable(Type.String()),
  title: Type.String(),
  durationMs: Nullable(Type.Number()),
  enrolled: Type.Boolean(),
  workTitles: Type.Array(Type.String()),
  performers: Type.Array(Type.String()),
});

const IMPORT_KINDS = ['auto', 'holders', 'works', 'recordings', 'shares', 'mandates', 'cwr'] as const;

/** The catalogue: search, details, reference audio, enrolment by upload, bulk CSV/CWR import, conflicts. */
export function catalogueRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['catalogue'];

    app.get(
      '/recordings',
      {
        schema: {
          tags,
          summary:
            "Search recordings (title, ISRC, id, work title or ISWC, performer name) within the caller's scope",
          querystring: Type.Object({
            ...PageQuery,
            q: Type.Optional(Type.String({ maxLength: 200 })),
            holder: Type.Optional(Type.String()),
            enrolled: Type.Optional(Type.Boolean()),
          }),
          response: { 200: pageOf(RecordingSummary, 'recordings'), ...errorResponses },
        },
      },
      async (req) => {
        const page = paging(req.query, ctx.config);
        const { items, total } = await searchRecordings(
          ctx,
          req.principal,
          { q: req.query.q, holderId: req.query.holder, enrolled: req.query.enrolled },
          page,
        );
        return pageBody(items, total, page);
      },
    );

    app.get(
      '/recordings/:id',
      {
        schema: {
          tags,
          summary: 'A recording with its works, rights holders, shares and fingerprint enrolment',
          params: Type.Object({ id: Type.String() }),
          response: {
            200: Open('recording, works, holders, shares, enrolled, hasReferenceAudio'),
            ...errorResponses,
          },
        },
      },
      async (req) => recordingDetail(ctx, req.principal, req.params.id),
    );

    app.get(
      '/recordings/:id/audio',
      {
        schema: {
          tags,
          summary: 'The reference audio the recording was enrolled from (Range requests honoured)',
          params: Type.Object({ id: Type.String() }),
        },
      },
      async (req, reply) => {
        const path = await referenceAudioPath(ctx, req.principal, req.params.id);
        return sendFileWithRanges(req, reply, path, `recording ${req.params.id}`);
      },
    );

    app.post(
      '/recordings',
      {
        schema: {
          tags,
          summary: 'Enrol a recording: multipart upload of the audio (field "file") with its metadata',
          consumes: ['multipart/form-data'],
          description:
            'Fields: file (audio), title, isrc, id, workId, performerId, producerId, allowDuplicate (true to enrol audio ' +
            'that duplicates an enrolled recording). 201 when enrolled; 200 with status "duplicate" and duplicateOf when ' +
            'the audio is already enrolled (nothing saved); 409 when the id or ISRC is taken.',
          response: {
            200: Open('enrolment outcome'),
            201: Open('enrolment outcome'),
            409: Type.Ref('Error'),
            413: Type.Ref('Error'),
            ...errorResponses,
          },
        },
      },
      async (req, reply) => {
        const file = uploadedFile(req.body, 'file');
        if (!file) throw badInput('send the audio as a multipart file field named "file"');
        const b = req.body;
        const out = await enrolUpload(ctx, req.principal, actorOf(req.principal, req.ip), file, {
          id: field(b, 'id'),
          title: field(b, 'title') ?? '',
          isrc: field(b, 'isrc'),
          workId: field(b, 'workId') || undefined,
          performerId: field(b, 'performerId') || undefined,
          producerId: field(b, 'producerId') || undefined,
          allowDuplicate: field(b, 'allowDuplicate') === 'true' || field(b, 'allowDuplicate') === 'on',
        });
        return reply.code(out.status === 'enrolled' ? 201 : 200).send(out);
      },
    );

    app.post(
      '/catalogue/import',
      {
        schema: {
          tags,
          summary:
            'Bulk import: a catalogue CSV (holders, works, recordings, shares, mandates) or a CWR file; per-row report',
          consumes: ['multipart/form-data', 'text/csv', 'text/plain'],
          description:
            'Multipart with field "file" (and optional "kind"), or the file as the body with ?kind=.',
          querystring: Type.Object({
            kind: Type.Optional(Type.Union(IMPORT_KINDS.map((k) => Type.Literal(k)))),
          }),
          response: {
            200: Open('format (csv or cwr) and the report'),
            413: Type.Ref('Error'),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        let text: string;
        let name = 'import';
        let kind = (req.query.kind ?? 'auto') as string;
        if (typeof req.body === 'string') {
          text = req.body;
        } else {
          const file = uploadedFile(req.body, 'file');
          if (!file)
            throw badInput('send the file as a multipart field named "file" (or as a text/csv body)');
          text = readFileSync(file.path, 'utf8');
          name = file.filename;
          kind = field(req.body, 'kind') || kind;
        }
        if (!(IMPORT_KINDS as readonly string[]).includes(kind)) {
          throw badInput(`kind must be one of ${IMPORT_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
        }
        return importCatalogue(
          ctx,
          req.principal,
          actorOf(req.principal, req.ip),
          text,
          kind as ImportKind,
          name,
        );
      },
    );

    app.get(
      '/catalogue/conflicts',
      {
        schema: {
          tags,
          summary:
            'Open share conflicts: subjects whose shares for a right sum to more than 100 % in some period',
          response: { 200: Type.Object({ items: Type.Array(Open('a share conflict')) }), ...errorResponses },
        },
      },
      async (req) => ({ items: await shareConflicts(ctx, req.principal) }),
    );

    app.get(
      '/works',
      {
        schema: {
          tags,
          summary: 'Search works (title in any script, ISWC, id)',
          querystring: Type.Object({ ...PageQuery, q: Type.Optional(Type.String({ maxLength: 200 })) }),
          response: { 200: pageOf(Open('a work'), 'works'), ...errorResponses },
        },
      },
      async (req) => {
        const page = paging(req.query, ctx.config);
        const { items, total } = await searchWorks(ctx, req.principal, req.query.q, page);
        return pageBody(items, total, page);
      },
    );

    app.get(
      '/works/:id',
      {
        schema: {
          tags,
          summary: 'A work with its shares and recordings',
          params: Type.Object({ id: Type.String() }),
          response: { 200: Open('work, shares, recordings'), ...errorResponses },
        },
      },
      async (req) => workDetail(ctx, req.principal, req.params.id),
    );

    app.get(
      '/holders',
      {
        schema: {
          tags,
          summary: 'Search rights holders (name, id, IPI, IIN/BIN)',
          querystring: Type.Object({ ...PageQuery, q: Type.Optional(Type.String({ maxLength: 200 })) }),
          response: { 200: pageOf(Open('a rights holder'), 'rights holders'), ...errorResponses },
        },
      },
      async (req) => {
        const page = paging(req.query, ctx.config);
        const { items, total } = await searchHolders(ctx, req.principal, req.query.q, page);
        return pageBody(items, total, page);
      },
    );
  };
}
