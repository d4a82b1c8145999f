import { Type, type TSchema } from 'typebox';

/** Schemas shared by the API's plugins. Each plugin declares its own beside its handlers. */

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      statusCode: Type.Integer(),
      code: Type.String({ description: 'machine-readable: invalid_request, not_found, forbidden, ...' }),
      message: Type.String({ description: 'what is wrong, for a person' }),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { $id: 'Error', description: 'Every error has this body.' },
);

/** Error responses every authenticated route can give. */
export const errorResponses = {
  400: Type.Ref('Error'),
  401: Type.Ref('Error'),
  403: Type.Ref('Error'),
  404: Type.Ref('Error'),
} as const;

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, description: 'page size (default 50)' })),
  offset: Type.Optional(Type.Integer({ minimum: 0, description: 'items to skip' })),
};

export const FormatQuery = {
  format: Type.Optional(
    Type.Union([Type.Literal('json'), Type.Literal('csv')], {
      description: 'json (default) or csv (a download)',
    }),
  ),
};

export function pageOf<T extends TSchema>(item: T, description: string) {
  return Type.Object(
    {
      items: Type.Array(item),
      total: Type.Integer({ description: 'items matching the filters' }),
      limit: Type.Integer(),
      offset: Type.Integer(),
      nextOffset: Type.Union([Type.Integer(), Type.Null()], {
        description: 'offset of the next page, null on the last',
      }),
    },
    { description },
  );
}

export const DateParam = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}$',
  description: 'a local date YYYY-MM-DD',
});
export const PeriodParam = Type.String({
  pattern: '^\\d{4}-\\d{2}$',
  description: 'an accrual period (month) YYYY-MM',
});
export const TimeQuery = Type.String({
  description:
    'a time: ISO 8601 (2026-03-01T10:00:00+05:00), a date YYYY-MM-DD (its start, Kazakhstan time) or epoch ms',
});

export const UserSchema = Type.Object(
  {
    id: Type.String(),
    username: Type.String(),
    displayName: Type.String(),
    role: Type.String(),
    cmoId: Type.Union([Type.String(), Type.Null()]),
    licenseeId: Type.Union([Type.String(), Type.Null()]),
    holderId: Type.Union([Type.String(), Type.Null()]),
    locale: Type.Union([Type.String(), Type.Null()]),
    disabled: Type.Boolean(),
  },
  { $id: 'User' },
);
