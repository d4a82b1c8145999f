/**
 * The catalogue's domain: the registries of the unified platform (CMOs, rights holders, works,
 * recordings, shares, mandates, licensees, licences, tariffs). Plain data, no I/O.
 *
 * Times are epoch milliseconds (UTC). A validity period is half-open: [validFromMs, validToMs),
 * validToMs null = open-ended. Shares are in basis points of a percent: 10000 = 100.00 %.
 */

/** Author's performing right (authors' CMO); related rights of performers and of producers. */
export const RIGHT_TYPES = ['performing', 'performer', 'producer'] as const;
export type RightType = (typeof RIGHT_TYPES)[number];

export const HOLDER_ROLES = [
  'composer',
  'lyricist',
  'arranger',
  'publisher',
  'performer',
  'producer',
] as const;
export type HolderRole = (typeof HOLDER_ROLES)[number];

/** Whole shares are 10000 (= 100.00 %). */
export const FULL_SHARE_BP = 10000;

export interface Cmo {
  id: string;
  name: string;
  bin: string | null;
  /** The right types this CMO manages (an authors' CMO: performing; a related-rights CMO: performer, producer). */
  rightTypes: RightType[];
}

export interface RightsHolder {
  id: string;
  /** person: a natural person (IIN); entity: a legal entity (BIN). */
  kind: 'person' | 'entity';
  name: string;
  iin: string | null;
  bin: string | null;
  /** IPI name number, 11 digits. */
  ipiNameNumber: string | null;
  roles: HolderRole[];
}

export interface WorkCreator {
  holderId: string;
  role: HolderRole;
}

export interface Work {
  id: string;
  iswc: string | null;
  /** The title used when no script-specific one is asked for. */
  title: string;
  titleKk: string | null;
  titleRu: string | null;
  titleLat: string | null;
  creators: WorkCreator[];
}

export interface RecordingWork {
  workId: string;
  /** Portion of the recording's authors' money for this work (a medley has several), basis points. */
  portionBp: number;
}

export interface Recording {
  id: string;
  isrc: string | null;
  title: string;
  durationMs: number | null;
  performerIds: string[];
  producerId: string | null;
  works: RecordingWork[];
  /** The recording's id in the fingerprint index when enrolled (by convention the same id), else null. */
  fingerprintRef: string | null;
}

export type ShareSubjectKind = 'work' | 'recording';

/** One version of a rights holder's share of a work or recording for a right type. Never edited. */
export interface Share {
  /** The share version id: what accrual lines point to. */
  id: string;
  subjectKind: ShareSubjectKind;
  subjectId: string;
  rightType: RightType;
  holderId: string;
  shareBp: number;
  validFromMs: number;
  validToMs: number | null;
  version: number;
  /** The share version this one replaced, if any. */
  supersedesId: string | null;
  /** Set when a newer version replaced this one (or it was withdrawn); the row itself stays. */
  retiredAtMs: number | null;
}

export interface Mandate {
  id: string;
  holderId: string;
  cmoId: string;
  rightType: RightType;
  validFromMs: number;
  validToMs: number | null;
}

export const LICENSEE_CATEGORIES = [
  'broadcaster',
  'cable_operator',
  'theatre',
  'cinema',
  'philharmonic',
  'other',
] as const;
export type LicenseeCategory = (typeof LICENSEE_CATEGORIES)[number];

/** A user of works (a licensee): broadcasters first, other categories later. */
export interface Licensee {
  id: string;
  name: string;
  bin: string | null;
  category: LicenseeCategory;
  /** From when this licensee must report through the platform. */
  platformFromMs: number;
}

export interface Licence {
  id: string;
  licenseeId: string;
  cmoId: string;
  tariffId: string;
  validFromMs: number;
  validToMs: number | null;
}

export interface Tariff {
  id: string;
  cmoId: string;
  name: string;
}

/** One immutable version of a tariff's rules (see src/royalty/rules.ts for their shape). */
export interface TariffVersion {
  /** `${tariffId}@v${version}` */
  id: string;
  tariffId: string;
  version: number;
  validFromMs: number;
  /** Canonical JSON of the rules. */
  rulesJson: string;
  /** sha256 of rulesJson. */
  rulesHash: string;
}

/** A period where the active shares of one subject and right type sum to more than 100 %. */
export interface ShareConflict {
  id: string;
  subjectKind: ShareSubjectKind;
  subjectId: string;
  rightType: RightType;
  fromMs: number;
  toMs: number | null;
  totalBp: number;
  detectedAtMs: number;
  resolvedAtMs: number | null;
}

/** A problem in input data, named precisely: what, where and why. */
export class CatalogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogError';
  }
}
