/**
 * Who may use Tyndau, and for whom each account acts. Access is decided on the server for every
 * route (src/api/access.ts); the web pages only hide what a role cannot use.
 */
export const ROLES = [
  /** The platform operator (the National Institute of IP): sees and does everything. */
  'operator',
  /** A CMO's reviewer: its CMO's licences, the channels of its licensees, its repertoire. */
  'cmo_reviewer',
  /** A rights registrar: the catalogue (enrolment, import, search, conflicts). */
  'registrar',
  /** A broadcaster (licensee): its own channels and usage reports only. */
  'broadcaster',
  /** An author or other rights holder: its own works, recordings, detections and statements only. */
  'rights_holder',
  /** A capture node at a broadcaster: reads its licensee's channels' configuration (API tokens). */
  'capture_node',
] as const;
export type Role = (typeof ROLES)[number];

export function isRole(x: unknown): x is Role {
  return typeof x === 'string' && (ROLES as readonly string[]).includes(x);
}

/** The scope column each role needs: whose data the account acts for. */
export const ROLE_SCOPE: Record<Role, 'cmoId' | 'licenseeId' | 'holderId' | null> = {
  operator: null,
  cmo_reviewer: 'cmoId',
  registrar: null,
  broadcaster: 'licenseeId',
  rights_holder: 'holderId',
  capture_node: 'licenseeId',
};

export interface User {
  id: string;
  username: string;
  displayName: string;
  role: Role;
  cmoId: string | null;
  licenseeId: string | null;
  holderId: string | null;
  iin: string | null;
  locale: string | null;
  disabled: boolean;
  hasPassword: boolean;
  createdAtMs: number;
}

/** The authenticated caller of one request. */
export interface Principal {
  user: User;
  /** How the request proved who it is. */
  via: 'session' | 'token';
  /** The session's id (a hash) and its CSRF token, for session callers. */
  sessionId: string | null;
  csrfToken: string | null;
  tokenId: string | null;
}
