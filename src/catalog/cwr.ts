import { CatalogError, type HolderRole } from './types.js';
import { parseIpiNameNumber, parseIsrc, parseIswc } from './validate.js';

/**
 * CWR 2.1 / 2.2 (Common Works Registration) reader for work registrations: NWR and REV transactions with
 * their SPU (publisher), SWR (writer), PWR (publisher for writer), ALT (alternative title), PER
 * (performing artist) and REC (recording) records. Fixed-width records; positions below are 0-based
 * [start, end) from the CISAC CWR 2.1 layout (2.2 adds fields at the ends of records, read when present).
 * Pure: the repository applies the parsed registrations and completes the acknowledgement.
 */

export type RecordStatus = 'accepted' | 'rejected' | 'ignored';

/** One line of the acknowledgement: what happened to one record, and why. */
export interface CwrRecordAck {
  line: number;
  recordType: string;
  transactionSeq: number | null;
  status: RecordStatus;
  message: string;
}

/**
 * Transaction status, after the CWR ACK codes: AS accepted, RA accepted with some records rejected,
 * CO accepted but the shares conflict (over 100 %), DU duplicate (NWR of a known work), TR rejected.
 */
export type TransactionStatus = 'AS' | 'RA' | 'CO' | 'DU' | 'TR';

export interface CwrPublisher {
  line: number;
  ipNumber: string;
  name: string;
  type: string;
  ipiNameNumber: string | null;
  /** Performing-right ownership share, basis points (05000 in the file = 50.00 % = 5000). */
  prShareBp: number;
  /** Whether its share is an ownership share (original publisher, acquirer) that counts toward 100 %. */
  owns: boolean;
}

export interface CwrWriter {
  line: number;
  ipNumber: string;
  lastName: string;
  firstName: string;
  designation: string;
  roles: HolderRole[];
  ipiNameNumber: string | null;
  prShareBp: number;
  publisherIpNumbers: string[];
}

export interface CwrPerformer {
  line: number;
  name: string;
  ipiNameNumber: string | null;
}

export interface CwrRecording {
  line: number;
  isrc: string | null;
  durationSec: number | null;
  title: string | null;
  albumTitle: string | null;
  label: string | null;
}

export interface CwrWorkRegistration {
  line: number;
  transactionSeq: number;
  type: 'NWR' | 'REV';
  title: string;
  iswc: string | null;
  submitterWorkId: string;
  language: string | null;
  durationSec: number | null;
  altTitles: Array<{ title: string; type: string; language: string | null }>;
  publishers: CwrPublisher[];
  writers: CwrWriter[];
  performers: CwrPerformer[];
  recordings: CwrRecording[];
  status: TransactionStatus;
  /** Why the status is not AS. */
  statusMessage: string | null;
}

export interface CwrFile {
  version: '2.1' | '2.2';
  senderType: string;
  senderId: string;
  senderName: string;
  creationDate: string;
  registrations: CwrWorkRegistration[];
  records: CwrRecordAck[];
}

const WRITER_ROLES: Record<string, HolderRole[]> = {
  CA: ['composer', 'lyricist'],
  C: ['composer'],
  A: ['lyricist'],
  AR: ['arranger'],
  SA: ['arranger'],
  AD: ['lyricist'],
  SR: ['lyricist'],
  TR: ['lyricist'],
};

/** Publisher types whose shares are ownership shares (sub-publishers and administrators collect, not own). */
const OWNING_PUBLISHER_TYPES = new Set(['E', 'AQ', '']);

const DETAIL_TYPES = new Set([
  'SPU',
  'SPT',
  'SWR',
  'SWT',
  'PWR',
  'ALT',
  'PER',
  'REC',
  'OPU',
  'OPT',
  'OWR',
  'OWT',
  'EWT',
  'VER',
  'COM',
  'ORN',
  'INS',
  'IND',
  'ARI',
  'XRF',
  'NAT',
  'NPN',
  'NWN',
  'NOW',
  'NPA',
  'NPR',
  'NET',
  'NCT',
  'NVT',
]);

function field(rec: string, start: number, end: number): string {
  return rec.slice(start, end).trim();
}

function num(rec: string, start: number, end: number, what: string): number {
  const raw = rec.slice(start, end);
  const t = raw.trim();
  if (t === '') return 0;
  if (!/^\d+$/.test(t)) throw new CatalogError(`${what} "${raw}" is not numeric`);
  return Number(t);
}

function hhmmss(rec: string, start: number, end: number, what: string): number | null {
  const t = field(rec, start, end);
  if (t === '' || /^0+$/.test(t)) return null;
  if (!/^\d{6}$/.test(t)) throw new CatalogError(`${what} "${t}" is not HHMMSS`);
  const [h, m, s] = [Number(t.slice(0, 2)), Number(t.slice(2, 4)), Number(t.slice(4, 6))];
  if (m > 59 || s > 59) throw new CatalogError(`${what} "${t}" is not HHMMSS`);
  return h * 3600 + m * 60 + s;
}

function share(rec: string, start: number, what: string): number {
  const v = num(rec, start, start + 5, what);
  if (v > 10000) throw new CatalogError(`${what} ${(v / 100).toFixed(2)} % is over 100 %`);
  return v;
}

function ipi(rec: string, start: number, end: number): string | null {
  const t = field(rec, start, end);
  if (t === '' || /^0+$/.test(t)) return null;
  return parseIpiNameNumber(t);
}

export function parseCwr(text: string): CwrFile {
  const lines = text.split(/\r\n|\n|\r/);
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new CatalogError('CWR file is empty');
  const hdr = lines[0];
  if (!hdr.startsWith('HDR')) throw new CatalogError('CWR line 1: expected an HDR record first');
  const ediVersion = field(hdr, 59, 64);
  if (ediVersion && ediVersion !== '01.10') {
    throw new CatalogError(`CWR line 1: EDI standard version "${ediVersion}" is not 01.10`);
  }
  const hdrVersion = field(hdr, 101, 104);
  let version: '2.1' | '2.2' = hdrVersion === '2.2' ? '2.2' : '2.1';
  if (hdrVersion && hdrVersion !== '2.1' && hdrVersion !== '2.2') {
    throw new CatalogError(`CWR line 1: version ${hdrVersion} is not supported (CWR 2.1 and 2.2 are)`);
  }
  const file: CwrFile = {
    version,
    senderType: field(hdr, 3, 5),
    senderId: field(hdr, 5, 14),
    senderName: field(hdr, 14, 59),
    creationDate: field(hdr, 64, 72),
    registrations: [],
    records: [
      {
        line: 1,
        recordType: 'HDR',
        transactionSeq: null,
        status: 'accepted',
        message: `CWR ${version} from ${field(hdr, 14, 59) || 'unnamed sender'}`,
      },
    ],
  };
  const ack = (
    line: number,
    recordType: string,
    transactionSeq: number | null,
    status: RecordStatus,
    message: string,
  ) => file.records.push({ line, recordType, transactionSeq, status, message });

  let current: CwrWorkRegistration | null = null;
  let inGroup = false;
  let groupType = '';
  let sawTrailer = false;
  const finish = () => {
    if (current) {
      settleTransaction(current);
      file.registrations.push(current);
      current = null;
    }
  };

  for (let i = 1; i < lines.length; i++) {
    const lineNo = i + 1;
    const rec = lines[i];
    const type = rec.slice(0, 3);
    const txSeq = /^\d{8}$/.test(rec.slice(3, 11)) ? Number(rec.slice(3, 11)) : null;
    try {
      if (sawTrailer) throw new CatalogError('record after the TRL trailer');
      if (type === 'GRH') {
        finish();
        groupType = field(rec, 3, 6);
        const gv = field(rec, 11, 16);
        if (gv === '02.20') version = '2.2';
        else if (gv !== '02.10' && gv !== '')
          throw new CatalogError(`group version "${gv}" is not supported (02.10 or 02.20)`);
        file.version = version;
        inGroup = true;
        ack(
          lineNo,
          type,
          null,
          groupType === 'NWR' || groupType === 'REV' ? 'accepted' : 'ignored',
          groupType === 'NWR' || groupType === 'REV'
            ? `group of ${groupType} transactions`
            : `group of ${groupType} transactions is not read (only NWR and REV)`,
        );
        continue;
      }
      if (type === 'GRT') {
        finish();
        inGroup = false;
        ack(lineNo, type, null, 'accepted', 'end of group');
        continue;
      }
      if (type === 'TRL') {
        finish();
        sawTrailer = true;
        ack(lineNo, type, null, 'accepted', 'end of transmission');
        continue;
      }
      if (!inGroup) throw new CatalogError('record outside a GRH/GRT group');
      if (txSeq === null) throw new CatalogError('transaction sequence (characters 4-11) is not 8 digits');
      if (type === 'NWR' || type === 'REV') {
        finish();
        if (groupType !== type) throw new CatalogError(`${type} transaction inside a ${groupType} group`);
        const title = field(rec, 19, 79);
        if (!title) throw new CatalogError('work title is empty');
        const submitterWorkId = field(rec, 81, 95);
        if (!submitterWorkId) throw new CatalogError("submitter's work number is empty");
        const iswcRaw = field(rec, 95, 106);
        current = {
          line: lineNo,
          transactionSeq: txSeq,
          type,
          title,
          iswc: iswcRaw ? parseIswc(iswcRaw) : null,
          submitterWorkId,
          language: field(rec, 79, 81) || null,
          durationSec: hhmmss(rec, 129, 135, 'duration'),
          altTitles: [],
          publishers: [],
          writers: [],
          performers: [],
          recordings: [],
          status: 'AS',
          statusMessage: null,
        };
        ack(lineNo, type, txSeq, 'accepted', `work "${title}"${current.iswc ? ` ${current.iswc}` : ''}`);
        continue;
      }
      if (!DETAIL_TYPES.has(type)) {
        if (current === null && groupType !== 'NWR' && groupType !== 'REV') {
          ack(lineNo, type, txSeq, 'ignored', `${type} transactions are not read`);
          continue;
        }
        throw new CatalogError(`unknown record type "${type}"`);
      }
      if (current === null) {
        if (groupType !== 'NWR' && groupType !== 'REV') {
          ack(lineNo, type, txSeq, 'ignored', `not in an NWR/REV transaction`);
          continue;
        }
        throw new CatalogError(`${type} record before any NWR/REV transaction header`);
      }
      const tx: CwrWorkRegistration = current;
      if (txSeq !== tx.transactionSeq) {
        throw new CatalogError(
          `transaction sequence ${txSeq} differs from its transaction header's ${tx.transactionSeq}`,
        );
      }
      if (tx.status === 'TR') {
        ack(lineNo, type, txSeq, 'rejected', 'the transaction was rejected');
        continue;
      }
      switch (type) {
        case 'SPU': {
          const pubType = field(rec, 76, 78);
          const p: CwrPublisher = {
            line: lineNo,
            ipNumber: field(rec, 21, 30),
            name: field(rec, 30, 75),
            type: pubType,
            ipiNameNumber: ipi(rec, 87, 98),
            prShareBp: share(rec, 115, 'PR ownership share'),
            owns: OWNING_PUBLISHER_TYPES.has(pubType),
          };
          if (!p.ipNumber && !p.ipiNameNumber)
            throw new CatalogError('publisher has neither an interested party number nor an IPI name number');
          if (!p.name) throw new CatalogError('publisher name is empty');
          tx.publishers.push(p);
          ack(
            lineNo,
            type,
            txSeq,
            'accepted',
            p.owns
              ? `publisher ${p.name}, PR share ${(p.prShareBp / 100).toFixed(2)} %`
              : `publisher ${p.name} (type ${pubType}): a collection share, not registered as ownership`,
          );
          break;
        }
        case 'SWR': {
          const designation = field(rec, 104, 106);
          const roles = WRITER_ROLES[designation];
          if (!roles)
            throw new CatalogError(
              `writer designation "${designation}" is not known (CA, C, A, AR, SA, AD, SR, TR)`,
            );
          const w: CwrWriter = {
            line: lineNo,
            ipNumber: field(rec, 19, 28),
            lastName: field(rec, 28, 73),
            firstName: field(rec, 73, 103),
            designation,
            roles,
            ipiNameNumber: ipi(rec, 115, 126),
            prShareBp: share(rec, 129, 'PR ownership share'),
            publisherIpNumbers: [],
          };
          if (!w.lastName) throw new CatalogError('writer last name is empty');
          if (!w.ipNumber && !w.ipiNameNumber)
            throw new CatalogError('writer has neither an interested party number nor an IPI name number');
          tx.writers.push(w);
          ack(
            lineNo,
            type,
            txSeq,
            'accepted',
            `writer ${w.lastName}${w.firstName ? `, ${w.firstName}` : ''} (${designation}), PR share ${(w.prShareBp / 100).toFixed(2)} %`,
          );
          break;
        }
        case 'PWR': {
          const pubIp = field(rec, 19, 28);
          const writerIp = field(rec, 101, 110);
          const writer = writerIp
            ? tx.writers.find((w) => w.ipNumber === writerIp)
            : tx.writers[tx.writers.length - 1];
          if (!writer)
            throw new CatalogError(`PWR names writer "${writerIp}" that no SWR of this transaction has`);
          if (!tx.publishers.some((p) => p.ipNumber === pubIp))
            throw new CatalogError(`PWR names publisher "${pubIp}" that no SPU of this transaction has`);
          writer.publisherIpNumbers.push(pubIp);
          ack(lineNo, type, txSeq, 'accepted', `writer ${writer.lastName} published by ${pubIp}`);
          break;
        }
        case 'ALT': {
          const title = field(rec, 19, 79);
          if (!title) throw new CatalogError('alternative title is empty');
          tx.altTitles.push({ title, type: field(rec, 79, 81), language: field(rec, 81, 83) || null });
          ack(lineNo, type, txSeq, 'accepted', `alternative title "${title}"`);
          break;
        }
        case 'PER': {
          const last = field(rec, 19, 64);
          const first = field(rec, 64, 94);
          if (!last) throw new CatalogError('performing artist name is empty');
          tx.performers.push({
            line: lineNo,
            name: first ? `${first} ${last}` : last,
            ipiNameNumber: ipi(rec, 94, 105),
          });
          ack(lineNo, type, txSeq, 'accepted', `performing artist ${first ? `${first} ` : ''}${last}`);
          break;
        }
        case 'REC': {
          const isrcRaw = field(rec, 249, 261);
          const r: CwrRecording = {
            line: lineNo,
            isrc: isrcRaw ? parseIsrc(isrcRaw) : null,
            durationSec: hhmmss(rec, 87, 93, 'first release duration'),
            title: field(rec, 266, 326) || null,
            albumTitle: field(rec, 98, 158) || null,
            label: field(rec, 158, 218) || field(rec, 446, 506) || null,
          };
          tx.recordings.push(r);
          ack(
            lineNo,
            type,
            txSeq,
            'accepted',
            r.isrc ? `recording ${r.isrc}` : 'recording without ISRC (kept as a note, not registered)',
          );
          break;
        }
        default:
          ack(lineNo, type, txSeq, 'ignored', `${type} records are not read by this importer`);
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const cur = current as CwrWorkRegistration | null;
      if ((type === 'NWR' || type === 'REV') && txSeq !== null) {
        // The transaction header itself is bad: the whole transaction is rejected.
        current = {
          line: lineNo,
          transactionSeq: txSeq,
          type,
          title: '',
          iswc: null,
          submitterWorkId: '',
          language: null,
          durationSec: null,
          altTitles: [],
          publishers: [],
          writers: [],
          performers: [],
          recordings: [],
          status: 'TR',
          statusMessage: message,
        };
      } else if (cur && cur.status !== 'TR') {
        cur.status = 'RA';
        cur.statusMessage = cur.statusMessage ?? `record at line ${lineNo} rejected: ${message}`;
      }
      ack(lineNo, type, txSeq, 'rejected', message);
    }
  }
  finish();
  if (!sawTrailer)
    ack(lines.length, 'TRL', null, 'rejected', 'the file has no TRL trailer: it may be truncated');
  return file;
}

/** Share totals: over 100 % is a conflict (kept, and reported until resolved). */
function settleTransaction(tx: CwrWorkRegistration): void {
  if (tx.status === 'TR') return;
  const total =
    tx.writers.reduce((s, w) => s + w.prShareBp, 0) +
    tx.publishers.filter((p) => p.owns).reduce((s, p) => s + p.prShareBp, 0);
  if (total > 10000) {
    tx.status = 'CO';
    tx.statusMessage = `performing-right shares sum to ${(total / 100).toFixed(2)} %, over 100 %: registered as a share conflict`;
  }
}
