// The HTTP API: Fastify plugins per area over the stages' repositories, authentication (sessions,
// API tokens, pluggable identity providers), authorisation by role and ownership, the audit log.
// See docs/api.md.
export { buildServer, API_PREFIX } from './server.js';
export { buildContext, insideRoots, type AppContext, type ServerOptions } from './context.js';
export { apiConfig, API_DEFAULTS, type ApiConfig } from './config.js';
export {
  ApiError,
  toErrorBody,
  badInput,
  notFound,
  forbidden,
  unauthenticated,
  type ErrorBody,
  type ErrorCode,
} from './errors.js';
export {
  Accounts,
  AccountError,
  sha256Hex,
  type NewUser,
  type ApiToken,
  type Session,
} from './auth/accounts.js';
export { PasswordIdentityProvider, LoginLimiter, type IdentityProvider } from './auth/identity.js';
export { hashPassword, verifyPassword, type ScryptParams } from './auth/passwords.js';
export { ROLES, ROLE_SCOPE, isRole, type Role, type User, type Principal } from './auth/roles.js';
export { cookieNames, issueLoginCsrf, checkLoginCsrf, logIn, logOut } from './auth/http.js';
export { AuditLog, actorOf, type AuditEntry, type AuditActor } from './audit.js';
export { Scope, requireLogin, requireRole, hasRole, type Caller } from './access.js';
export { field, fields, parseForm } from './http/forms.js';
export { uploadedFile, type UploadedFile } from './http/uploads.js';
export { sendFileWithRanges, parseRange } from './http/range.js';
export { paging, pageBody, parseTime, timeRange, periodParam, type Paging } from './http/query.js';
export * as detections from './services/detections.js';
export * as channels from './services/channels.js';
export * as catalogue from './services/catalogue.js';
export * as royalty from './services/royalty.js';
export * as stats from './services/stats.js';
