/**
 * Royalty: where airplay becomes money. Tariff rules (declarative, versioned), the pure accrual engine
 * (largest-remainder allocation, reserve for money without a known holder, reversal-based corrections),
 * the hash-chained ledger and its verification, statements and reports. RoyaltyRepository is the adapter.
 */
export { canonicalJson, sha256Hex } from './canonical.js';
export {
  assertTiyn,
  toTiyn,
  formatKzt,
  formatMicro,
  parseMicro,
  largestRemainder,
  allocateProRata,
  allocateProRataSmall,
  roundHalfUp,
  MoneyError,
  MICRO,
} from './money.js';
export {
  compileRules,
  canonicalRules,
  rulesUseMci,
  TariffRuleError,
  MAX_ADMINISTRATION_PERCENT_MICRO,
  USE_TYPE_KEYS,
  type TariffRules,
  type CompiledRules,
  type UseTypeKey,
} from './rules.js';
export {
  weighDetection,
  segmentAirtime,
  formatWeightedSec,
  useTypeKey,
  UNITS_PER_MS,
  type Weighing,
  type AirtimeSegment,
} from './weigh.js';
export {
  slotsFor,
  subjectKey,
  RESERVE_REASONS,
  RESERVE_REASON_TEXT,
  type RecordingRights,
  type ReserveReason,
  type Slot,
} from './slots.js';
export {
  computeDue,
  allocateBuckets,
  allocateBucket,
  noUsageLines,
  diffBucket,
  effectiveLines,
  sumGross,
  PER_SECOND_DEN,
  NO_USAGE_BUCKET,
  type AccrualLine,
  type AccrualLicence,
  type AccrualChannel,
  type BucketKey,
  type DueComputation,
  type LineDraft,
  type LineKind,
  type WeighedAiring,
} from './engine.js';
export {
  runAccrual,
  type AccrualSource,
  type AccrualSink,
  type BucketChange,
  type DetectionRow,
  type LicenceRunSummary,
  type RunSummary,
} from './run.js';
export {
  GENESIS_HASH,
  LinesDigest,
  lineCanonical,
  lineTuple,
  tupleJson,
  type LineTuple,
  entryCanonical,
  entryHash,
  verifyLedger,
  type EntryKind,
  type LedgerEntry,
  type LedgerHead,
  type LedgerProblem,
  type TamperKind,
  type VerifyResult,
} from './ledger.js';
export { explainLine, type LineTrace } from './explain.js';
export * from './statements.js';
export {
  RoyaltyRepository,
  RoyaltyError,
  LedgerAppender,
  type AccrueOptions,
  type AccrueResult,
  type EntrySpec,
  type UsageReportInfo,
} from './repo.js';
export { seedDemoCatalogue, DEMO, type DemoSeedOptions, type DemoSeedResult } from './seed.js';
