/**
 * Catalogue: the registries of the unified platform (CMOs, rights holders, works, recordings, shares,
 * mandates, licensees, licences, tariffs), identifier validation, share conflicts, mandate overlaps,
 * and bulk import from CSV and CWR 2.1/2.2. The pure parts have no I/O; CatalogRepository is the adapter.
 */
export * from './types.js';
export * from './validate.js';
export * from './zone.js';
export {
  overlaps,
  coversInstant,
  sharesAt,
  findShareConflicts,
  findMandateOverlap,
  findLicenceOverlap,
  mandateAt,
  type ConflictSpan,
} from './rules.js';
export {
  parseCsv,
  csvCell,
  csvRow,
  parseCatalogCsv,
  detectCsvKind,
  CSV_FORMATS,
  type CsvImportKind,
  type CsvRecord,
  type ShareImport,
  type CatalogImportItem,
} from './csv.js';
export {
  parseCwr,
  type CwrFile,
  type CwrRecordAck,
  type CwrWorkRegistration,
  type TransactionStatus,
} from './cwr.js';
export {
  CatalogRepository,
  toShare,
  toTariffVersion,
  type CsvImportReport,
  type CwrImportReport,
  type CwrTransactionReport,
  type ImportRowReport,
  type ShareChange,
} from './repo.js';
