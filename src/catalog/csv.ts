import {
  CatalogError,
  HOLDER_ROLES,
  RIGHT_TYPES,
  type HolderRole,
  type Mandate,
  type Recording,
  type RightsHolder,
  type RightType,
  type Work,
} from './types.js';
import {
  parseBin,
  parseDateMs,
  parseIin,
  parseIpiNameNumber,
  parseIsrc,
  parseIswc,
  parsePercentBp,
} from './validate.js';

/** RFC 4180 CSV (comma, double quotes, CRLF or LF) and the catalogue's CSV import formats. Pure. */

export interface CsvRecord {
  /** 1-based line number where the record starts. */
  line: number;
  fields: string[];
}

export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let field = '';
  let fields: string[] = [];
  let line = 1;
  let recordLine = 1;
  let inQuotes = false;
  let quotedField = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endField = () => {
    fields.push(field);
    field = '';
    quotedField = false;
  };
  const endRecord = () => {
    endField();
    if (!(fields.length === 1 && fields[0] === '')) records.push({ line: recordLine, fields });
    fields = [];
  };
  for (; i < text.length; i++) {
    const c = text[i];
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"') {
      if (field !== '' || quotedField) {
        throw new CatalogError(
          `CSV line ${line}: a quote inside an unquoted field (quote the whole field and double inner quotes)`,
        );
      }
      inQuotes = true;
      quotedField = true;
    } else if (c === ',') endField();
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else {
      if (quotedField) throw new CatalogError(`CSV line ${line}: characters after a closing quote`);
      field += c;
    }
  }
  if (inQuotes) throw new CatalogError(`CSV line ${recordLine}: a quoted field is never closed`);
  if (field !== '' || fields.length > 0) endRecord();
  return records;
}

/** One CSV cell, quoted when needed. */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const s = String(value);
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(values: ReadonlyArray<string | number | null | undefined>): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

// ---- the catalogue's import formats ---------------------------------------------------------------

export type CsvImportKind = 'holders' | 'works' | 'recordings' | 'shares' | 'mandates';

export const CSV_FORMATS: Record<CsvImportKind, { required: string[]; optional: string[] }> = {
  holders: { required: ['id', 'kind', 'name'], optional: ['iin', 'bin', 'ipi', 'roles'] },
  works: { required: ['id', 'title'], optional: ['iswc', 'title_kk', 'title_ru', 'title_lat', 'creators'] },
  recordings: {
    required: ['id', 'title'],
    optional: ['isrc', 'duration_sec', 'works', 'performers', 'producer', 'fingerprint_ref'],
  },
  shares: {
    required: ['subject_kind', 'subject_id', 'right_type', 'holder_id', 'share_percent', 'valid_from'],
    optional: ['valid_to'],
  },
  mandates: { required: ['holder_id', 'cmo_id', 'right_type', 'valid_from'], optional: ['valid_to'] },
};

/** Which import format a header is: the one whose required columns are all present (most specific first). */
export function detectCsvKind(header: readonly string[]): CsvImportKind {
  const cols = new Set(header.map((h) => h.trim().toLowerCase()));
  const order: CsvImportKind[] = ['shares', 'mandates', 'recordings', 'works', 'holders'];
  const distinctive: Record<CsvImportKind, string> = {
    shares: 'share_percent',
    mandates: 'cmo_id',
    recordings: 'isrc',
    works: 'iswc',
    holders: 'kind',
  };
  for (const kind of order) {
    if (cols.has(distinctive[kind]) && CSV_FORMATS[kind].required.every((c) => cols.has(c))) return kind;
  }
  throw new CatalogError(
    `CSV header "${header.join(',')}" matches no import format; expected one of: ` +
      Object.entries(CSV_FORMATS)
        .map(
          ([k, f]) =>
            `${k} (${f.required.join(',')}${f.optional.length ? `[,${f.optional.join(',')}]` : ''})`,
        )
        .join('; '),
  );
}

export interface ShareImport {
  subjectKind: 'work' | 'recording';
  subjectId: string;
  rightType: RightType;
  holderId: string;
  shareBp: number;
  validFromMs: number;
  validToMs: number | null;
}

export type CatalogImportItem =
  | { kind: 'holders'; holder: RightsHolder }
  | { kind: 'works'; work: Work }
  | { kind: 'recordings'; recording: Recording }
  | { kind: 'shares'; share: ShareImport }
  | { kind: 'mandates'; mandate: Omit<Mandate, 'id'> };

export interface RowOutcome<T> {
  line: number;
  item?: T;
  error?: string;
}

function rightType(value: string): RightType {
  const v = value.trim().toLowerCase() as RightType;
  if (!RIGHT_TYPES.includes(v)) {
    throw new CatalogError(`right type "${value}" is not valid: expected one of ${RIGHT_TYPES.join(', ')}`);
  }
  return v;
}

function role(value: string): HolderRole {
  const v = value.trim().toLowerCase() as HolderRole;
  if (!HOLDER_ROLES.includes(v))
    throw new CatalogError(`role "${value}" is not valid: expected one of ${HOLDER_ROLES.join(', ')}`);
  return v;
}

function list(value: string): string[] {
  return value
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
}

function required(row: Record<string, string>, col: string): string {
  const v = (row[col] ?? '').trim();
  if (!v) throw new CatalogError(`column "${col}" is empty`);
  return v;
}

function opt(row: Record<string, string>, col: string): string | null {
  const v = (row[col] ?? '').trim();
  return v === '' ? null : v;
}

function toItem(kind: CsvImportKind, row: Record<string, string>): CatalogImportItem {
  switch (kind) {
    case 'holders': {
      const k = required(row, 'kind').toLowerCase();
      if (k !== 'person' && k !== 'entity')
        throw new CatalogError(`kind "${row.kind}" is not valid: expected person or entity`);
      const iin = opt(row, 'iin');
      const bin = opt(row, 'bin');
      if (k === 'person' && bin) throw new CatalogError('a person has an IIN, not a BIN');
      if (k === 'entity' && iin) throw new CatalogError('a legal entity has a BIN, not an IIN');
      const ipi = opt(row, 'ipi');
      return {
        kind,
        holder: {
          id: required(row, 'id'),
          kind: k,
          name: required(row, 'name'),
          iin: iin ? parseIin(iin) : null,
          bin: bin ? parseBin(bin) : null,
          ipiNameNumber: ipi ? parseIpiNameNumber(ipi) : null,
          roles: list(row.roles ?? '').map(role),
        },
      };
    }
    case 'works': {
      const iswc = opt(row, 'iswc');
      return {
        kind,
        work: {
          id: required(row, 'id'),
          iswc: iswc ? parseIswc(iswc) : null,
          title: required(row, 'title'),
          titleKk: opt(row, 'title_kk'),
          titleRu: opt(row, 'title_ru'),
          titleLat: opt(row, 'title_lat'),
          creators: list(row.creators ?? '').map((c) => {
            const [holderId, r] = c.split(':');
            if (!holderId || !r)
              throw new CatalogError(`creator "${c}" is not valid: expected HOLDER_ID:role`);
            return { holderId: holderId.trim(), role: role(r) };
          }),
        },
      };
    }
    case 'recordings': {
      const isrc = opt(row, 'isrc');
      const dur = opt(row, 'duration_sec');
      let durationMs: number | null = null;
      if (dur !== null) {
        const sec = Number(dur);
        if (!Number.isFinite(sec) || sec <= 0)
          throw new CatalogError(`duration_sec "${dur}" is not a positive number of seconds`);
        durationMs = Math.round(sec * 1000);
      }
      const works = list(row.works ?? '').map((w) => {
        const [workId, portion] = w.split(':');
        return {
          workId: workId.trim(),
          portionBp: portion ? parsePercentBp(portion, `portion of work ${workId}`) : -1,
        };
      });
      // Unstated portions share what the stated ones leave, equally (the last one takes the odd basis points).
      const stated = works.filter((w) => w.portionBp >= 0).reduce((s, w) => s + w.portionBp, 0);
      const unstated = works.filter((w) => w.portionBp < 0);
      if (unstated.length > 0) {
        const left = 10000 - stated;
        if (left < 0) throw new CatalogError('work portions sum to more than 100 %');
        unstated.forEach((w, i) => {
          w.portionBp =
            Math.floor(left / unstated.length) + (i === unstated.length - 1 ? left % unstated.length : 0);
        });
      }
      if (works.length > 0 && works.reduce((s, w) => s + w.portionBp, 0) !== 10000) {
        throw new CatalogError('work portions must sum to 100 %');
      }
      return {
        kind,
        recording: {
          id: required(row, 'id'),
          isrc: isrc ? parseIsrc(isrc) : null,
          title: required(row, 'title'),
          durationMs,
          performerIds: list(row.performers ?? ''),
          producerId: opt(row, 'producer'),
          works,
          fingerprintRef: opt(row, 'fingerprint_ref'),
        },
      };
    }
    case 'shares': {
      const subjectKind = required(row, 'subject_kind').toLowerCase();
      if (subjectKind !== 'work' && subjectKind !== 'recording') {
        throw new CatalogError(`subject_kind "${row.subject_kind}" is not valid: expected work or recording`);
      }
      const rt = rightType(required(row, 'right_type'));
      if (subjectKind === 'work' && rt !== 'performing')
        throw new CatalogError(`a work carries the performing right, not ${rt}`);
      if (subjectKind === 'recording' && rt === 'performing') {
        throw new CatalogError(
          'a recording carries related rights (performer, producer), not the performing right',
        );
      }
      const validTo = opt(row, 'valid_to');
      return {
        kind,
        share: {
          subjectKind,
          subjectId: required(row, 'subject_id'),
          rightType: rt,
          holderId: required(row, 'holder_id'),
          shareBp: parsePercentBp(required(row, 'share_percent')),
          validFromMs: parseDateMs(required(row, 'valid_from'), 'valid_from'),
          validToMs: validTo ? parseDateMs(validTo, 'valid_to') : null,
        },
      };
    }
    case 'mandates': {
      const validTo = opt(row, 'valid_to');
      return {
        kind,
        mandate: {
          holderId: required(row, 'holder_id'),
          cmoId: required(row, 'cmo_id'),
          rightType: rightType(required(row, 'right_type')),
          validFromMs: parseDateMs(required(row, 'valid_from'), 'valid_from'),
          validToMs: validTo ? parseDateMs(validTo, 'valid_to') : null,
        },
      };
    }
  }
}

/** Parses a catalogue CSV into items, one outcome per data row (an error names the row's problem). */
export function parseCatalogCsv(
  text: string,
  kind?: CsvImportKind,
): { kind: CsvImportKind; rows: RowOutcome<CatalogImportItem>[] } {
  const records = parseCsv(text);
  if (records.length === 0) throw new CatalogError('CSV file is empty (expected a header row)');
  const header = records[0].fields.map((h) => h.trim().toLowerCase());
  const k = kind ?? detectCsvKind(header);
  const missing = CSV_FORMATS[k].required.filter((c) => !header.includes(c));
  if (missing.length) throw new CatalogError(`CSV header lacks column(s) ${missing.join(', ')} for ${k}`);
  const known = new Set([...CSV_FORMATS[k].required, ...CSV_FORMATS[k].optional]);
  const unknown = header.filter((h) => !known.has(h));
  if (unknown.length)
    throw new CatalogError(`CSV header has unknown column(s) ${unknown.join(', ')} for ${k}`);
  const rows = records.slice(1).map((rec): RowOutcome<CatalogImportItem> => {
    if (rec.fields.length !== header.length) {
      return { line: rec.line, error: `expected ${header.length} fields, got ${rec.fields.length}` };
    }
    const row: Record<string, string> = {};
    header.forEach((h, i) => (row[h] = rec.fields[i]));
    try {
      return { line: rec.line, item: toItem(k, row) };
    } catch (err) {
      return { line: rec.line, error: err instanceof Error ? err.message : String(err) };
    }
  });
  return { kind: k, rows };
}
