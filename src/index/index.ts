export { ReferenceIndex, defaultIndexDir, type IndexStats } from './reference-index.js';
export {
  enrollFile,
  fingerprintFile,
  findDuplicate,
  idFromPath,
  type EnrollOptions,
  type EnrollResult,
} from './enroll.js';
export { LookupIndex, type IndexedRecording } from './lookup.js';
export type { RecordingMeta, StoredRecording } from './store.js';
