import { createHash, type Hash } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import type { AccrualLine } from './engine.js';

/**
 * The append-only ledger as a hash chain. Each entry's hash is sha256 over the canonical JSON of its
 * content, which includes the previous entry's hash and a digest of the entry's lines (sha256 over their
 * canonical forms, one per line, in sequence). Changing, removing, inserting or reordering any entry or
 * line breaks a hash that verification recomputes; the ledger head (last seq and hash) catches a cut
 * tail, and an externally kept head hash catches a rewritten one.
 */

export const GENESIS_HASH = '0'.repeat(64);

export type EntryKind =
  | 'accrual' // a bucket's lines (reversals and new lines) from one run
  | 'accrual_run' // the summary of one run of one period
  | 'tariff_version' // a tariff version published
  | 'usage_confirmed'
  | 'usage_disputed'
  | 'dispute_resolved';

export interface LedgerEntry {
  seq: number;
  kind: EntryKind;
  period: string | null;
  licenceId: string | null;
  channelId: string | null;
  day: string | null;
  revision: number | null;
  firstLineSeq: number | null;
  linesCount: number;
  linesDigest: string | null;
  /** Canonical JSON of the entry's payload. */
  payloadJson: string;
  createdAtMs: number;
  prevHash: string;
  hash: string;
}

/**
 * A line as a tuple of every stored column, in a fixed order (also the column order of accrual_lines).
 * Its kind is implied by reversesSeq and its tariff version is its entry's, both covered by the entry hash.
 */
export type LineTuple = [
  seq: number,
  entrySeq: number,
  reversesSeq: number | null,
  detectionId: string | null,
  rightType: string,
  holderId: string | null,
  reserveReason: string | null,
  shareId: string | null,
  subjectId: string | null,
  airtimeMs: number,
  weightedUs: number,
  grossTiyn: number,
  deductionTiyn: number,
  netTiyn: number,
];

export function lineTuple(
  l: Omit<AccrualLine, 'seq' | 'entrySeq'>,
  seq: number,
  entrySeq: number,
): LineTuple {
  return [
    seq,
    entrySeq,
    l.reversesSeq,
    l.detectionId,
    l.rightType,
    l.holderId,
    l.reserveReason,
    l.shareId,
    l.subjectId,
    l.airtimeMs,
    l.weightedUs,
    l.grossTiyn,
    l.deductionTiyn,
    l.netTiyn,
  ];
}

/** Strings that JSON writes as-is between quotes (no quote, backslash, control or surrogate characters). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON escapes
const PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

function jsonString(s: string | null): string {
  return s === null ? 'null' : PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
}

/** JSON.stringify(tuple), byte for byte, without its generic machinery (this runs once per line). */
export function tupleJson(t: LineTuple): string {
  return `[${t[0]},${t[1]},${t[2] === null ? 'null' : t[2]},${jsonString(t[3])},${jsonString(t[4])},${jsonString(t[5])},${jsonString(t[6])},${jsonString(t[7])},${jsonString(t[8])},${t[9] === 0 ? 0 : t[9]},${t[10] === 0 ? 0 : t[10]},${t[11] === 0 ? 0 : t[11]},${t[12] === 0 ? 0 : t[12]},${t[13] === 0 ? 0 : t[13]}]`;
}

/** A line's canonical form: the JSON array of its tuple. */
export function lineCanonical(l: AccrualLine): string {
  return tupleJson(lineTuple(l, l.seq, l.entrySeq));
}

export class LinesDigest {
  private hash: Hash = createHash('sha256');
  count = 0;
  add(line: AccrualLine): void {
    this.addTuple(lineTuple(line, line.seq, line.entrySeq));
  }
  addTuple(tuple: LineTuple): void {
    this.hash.update(`${tupleJson(tuple)}\n`);
    this.count++;
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

export function entryCanonical(e: Omit<LedgerEntry, 'hash'>): string {
  return canonicalJson({
    seq: e.seq,
    kind: e.kind,
    period: e.period,
    licenceId: e.licenceId,
    channelId: e.channelId,
    day: e.day,
    revision: e.revision,
    firstLineSeq: e.firstLineSeq,
    linesCount: e.linesCount,
    linesDigest: e.linesDigest,
    payloadJson: e.payloadJson,
    createdAtMs: e.createdAtMs,
    prevHash: e.prevHash,
  });
}

export function entryHash(e: Omit<LedgerEntry, 'hash'>): string {
  return createHash('sha256').update(entryCanonical(e)).digest('hex');
}

export type TamperKind = 'changed' | 'removed' | 'inserted' | 'reordered';

export interface LedgerProblem {
  kind: TamperKind;
  /** The first entry where the ledger stops being what was written (null: after the last entry). */
  entrySeq: number | null;
  lineSeq: number | null;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  entries: number;
  lines: number;
  headSeq: number;
  headHash: string;
  problem: LedgerProblem | null;
}

export interface LedgerHead {
  seq: number;
  hash: string;
  lineSeq: number;
}

class Peekable<T> {
  private it: AsyncIterator<T>;
  private buffered: IteratorResult<T> | null = null;
  constructor(src: AsyncIterable<T>) {
    this.it = src[Symbol.asyncIterator]();
  }
  async peek(): Promise<T | undefined> {
    if (!this.buffered) this.buffered = await this.it.next();
    return this.buffered.done ? undefined : this.buffered.value;
  }
  async next(): Promise<T | undefined> {
    const v = await this.peek();
    this.buffered = null;
    return v;
  }
}

/**
 * Walks the entries (in seq order) and the lines (in seq order) together and reports the first place
 * where they stop being the chain that was written. `expectHeadHash` is a head hash kept elsewhere.
 */
export async function verifyLedger(
  entriesSrc: AsyncIterable<LedgerEntry>,
  linesSrc: AsyncIterable<AccrualLine>,
  head: LedgerHead | null,
  expectHeadHash?: string,
): Promise<VerifyResult> {
  const entries = new Peekable(entriesSrc);
  const lines = new Peekable(linesSrc);
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let nEntries = 0;
  let nLines = 0;
  const result = (problem: LedgerProblem | null): VerifyResult => ({
    ok: problem === null,
    entries: nEntries,
    lines: nLines,
    headSeq: expectedSeq - 1,
    headHash: prevHash,
    problem,
  });
  for (;;) {
    const e = await entries.next();
    if (!e) break;
    if (e.seq !== expectedSeq) {
      return result(
        e.seq > expectedSeq
          ? {
              kind: 'removed',
              entrySeq: expectedSeq,
              lineSeq: null,
              message: `entry ${expectedSeq}${e.seq - expectedSeq > 1 ? `-${e.seq - 1}` : ''} is missing: removed`,
            }
          : {
              kind: 'inserted',
              entrySeq: e.seq,
              lineSeq: null,
              message: `entry ${e.seq} appears twice: inserted`,
            },
      );
    }
    const { hash: storedHash, ...content } = e;
    const recomputed = entryHash(content);
    if (e.prevHash !== prevHash) {
      const next = await entries.peek();
      if (next && next.hash === e.prevHash) {
        return result({
          kind: 'reordered',
          entrySeq: e.seq,
          lineSeq: null,
          message: `entry ${e.seq} comes before the entry it was chained to: entries reordered`,
        });
      }
      if (recomputed !== storedHash) {
        return result({
          kind: 'changed',
          entrySeq: e.seq,
          lineSeq: null,
          message: `entry ${e.seq} was changed: its content no longer matches its hash`,
        });
      }
      return result({
        kind: 'changed',
        entrySeq: e.seq,
        lineSeq: null,
        message: `entry ${e.seq} does not follow entry ${e.seq - 1}: an entry before it was removed, inserted, reordered or rewritten`,
      });
    }
    if (recomputed !== storedHash) {
      return result({
        kind: 'changed',
        entrySeq: e.seq,
        lineSeq: null,
        message: `entry ${e.seq} was changed: its content no longer matches its hash`,
      });
    }
    // Its lines: exactly linesCount lines, numbered from firstLineSeq, with the recorded digest.
    if (e.linesCount > 0) {
      const first = e.firstLineSeq ?? 0;
      const digest = new LinesDigest();
      for (let k = 0; k < e.linesCount; k++) {
        const want = first + k;
        let l = await lines.peek();
        if (l && l.seq < want) {
          return result({
            kind: 'inserted',
            entrySeq: e.seq,
            lineSeq: l.seq,
            message: `line ${l.seq} belongs to no entry: inserted`,
          });
        }
        if (!l || l.seq > want) {
          return result({
            kind: 'removed',
            entrySeq: e.seq,
            lineSeq: want,
            message: `line ${want} of entry ${e.seq} is missing: removed`,
          });
        }
        l = (await lines.next())!;
        if (l.entrySeq !== e.seq) {
          return result({
            kind: 'changed',
            entrySeq: e.seq,
            lineSeq: l.seq,
            message: `line ${l.seq} claims entry ${l.entrySeq} but entry ${e.seq} holds it: changed`,
          });
        }
        digest.add(l);
        nLines++;
      }
      if (digest.digest() !== e.linesDigest) {
        return result({
          kind: 'changed',
          entrySeq: e.seq,
          lineSeq: first,
          message: `the lines of entry ${e.seq} (${first}-${first + e.linesCount - 1}) were changed or reordered: their digest differs`,
        });
      }
    }
    prevHash = storedHash;
    expectedSeq++;
    nEntries++;
  }
  const extra = await lines.peek();
  if (extra)
    return result({
      kind: 'inserted',
      entrySeq: null,
      lineSeq: extra.seq,
      message: `line ${extra.seq} belongs to no entry: inserted`,
    });
  const lastSeq = expectedSeq - 1;
  if (head) {
    if (head.seq > lastSeq) {
      return result({
        kind: 'removed',
        entrySeq: lastSeq + 1,
        lineSeq: null,
        message: `the ledger head is entry ${head.seq} but the last entry is ${lastSeq}: entries removed from the end`,
      });
    }
    if (head.seq < lastSeq) {
      return result({
        kind: 'inserted',
        entrySeq: head.seq + 1,
        lineSeq: null,
        message: `entries after the head (${head.seq}) were appended outside the ledger: inserted`,
      });
    }
    if (head.hash !== prevHash) {
      return result({
        kind: 'changed',
        entrySeq: lastSeq,
        lineSeq: null,
        message: `the ledger head's hash differs from entry ${lastSeq}'s: the tail was rewritten`,
      });
    }
  } else if (lastSeq > 0) {
    return result({ kind: 'changed', entrySeq: null, lineSeq: null, message: 'the ledger head is missing' });
  }
  if (expectHeadHash !== undefined && expectHeadHash !== prevHash) {
    return result({
      kind: 'changed',
      entrySeq: lastSeq,
      lineSeq: null,
      message: `the head hash ${prevHash.slice(0, 16)}... is not the expected ${expectHeadHash.slice(0, 16)}...: the ledger was rewritten`,
    });
  }
  return result(null);
}
