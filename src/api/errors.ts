import type { FastifyError } from 'fastify';

/** The machine-readable part of every error body: `{ error: { statusCode, code, message, details? } }`. */
export type ErrorCode =
  | 'invalid_request'
  | 'invalid_input'
  | 'unauthenticated'
  | 'forbidden'
  | 'csrf_failed'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'too_many_attempts'
  | 'unavailable'
  | 'internal';

export interface ErrorBody {
  error: { statusCode: number; code: ErrorCode; message: string; details?: unknown };
}

/** An error meant for the API's caller, with its status and code. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    /** Seconds, for 429 and 503. */
    readonly retryAfterSec?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (what: string): ApiError => new ApiError(404, 'not_found', `${what} not found`);
export const forbidden = (message = 'your role may not do this'): ApiError =>
  new ApiError(403, 'forbidden', message);
export const unauthenticated = (): ApiError =>
  new ApiError(401, 'unauthenticated', 'log in or send an API token (Authorization: Bearer ...)');
export const badInput = (message: string, details?: unknown): ApiError =>
  new ApiError(400, 'invalid_input', message, details);

/** Input errors raised by the domain modules (catalogue, royalty rules, accounts) carry these names. */
const INPUT_ERRORS = new Set([
  'CatalogError',
  'AccountError',
  'TariffRuleError',
  'MoneyError',
  'RoyaltyError',
]);

/** Maps anything thrown in a handler to a status and a body the caller can act on. */
export function toErrorBody(err: unknown): { statusCode: number; body: ErrorBody; retryAfterSec?: number } {
  if (err instanceof ApiError) {
    const error: ErrorBody['error'] = { statusCode: err.statusCode, code: err.code, message: err.message };
    if (err.details !== undefined) error.details = err.details;
    return { statusCode: err.statusCode, body: { error }, retryAfterSec: err.retryAfterSec };
  }
  const fe = err as Partial<FastifyError> & { validation?: unknown; validationContext?: string };
  if (fe && fe.validation) {
    const message = `${fe.validationContext ?? 'request'}: ${fe.message ?? 'invalid'}`;
    return wrap(400, 'invalid_request', message, fe.validation);
  }
  if (err instanceof Error && INPUT_ERRORS.has(err.name)) return wrap(400, 'invalid_input', err.message);
  const status = typeof fe?.statusCode === 'number' ? fe.statusCode : 500;
  if (fe?.code === 'FST_REQ_FILE_TOO_LARGE' || fe?.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || status === 413) {
    return wrap(413, 'too_large', fe.message ?? 'request too large');
  }
  if (status >= 400 && status < 500) {
    return wrap(status, status === 404 ? 'not_found' : 'invalid_request', fe.message ?? 'bad request');
  }
  return wrap(500, 'internal', 'internal error (logged on the server)');
}

function wrap(statusCode: number, code: ErrorCode, message: string, details?: unknown) {
  const error: ErrorBody['error'] = { statusCode, code, message };
  if (details !== undefined) error.details = details;
  return { statusCode, body: { error } };
}
