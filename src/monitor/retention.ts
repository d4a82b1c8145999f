/**
 * Which evidence clips to delete: everything past the age limit, then the oldest until the total fits.
 * Protected clips (those of disputed detections, until the dispute is resolved) are never deleted and
 * do not count against the size limit: a reviewer may still need them, and they must not push the
 * channel's other clips out either.
 */

export interface StoredClip {
  path: string;
  sizeBytes: number;
  /** When the clip was written (its file's modification time). */
  writtenAtMs: number;
}

export interface RetentionPolicy {
  maxAgeMs: number;
  maxBytes: number;
}

export function clipsToDelete(
  clips: readonly StoredClip[],
  policy: RetentionPolicy,
  nowMs: number,
  isProtected: (path: string) => boolean = () => false,
): string[] {
  const byAge = clips
    .filter((c) => !isProtected(c.path))
    .sort((a, b) => a.writtenAtMs - b.writtenAtMs || a.path.localeCompare(b.path));
  const doomed: string[] = [];
  let total = byAge.reduce((s, c) => s + c.sizeBytes, 0);
  for (const clip of byAge) {
    const tooOld = nowMs - clip.writtenAtMs > policy.maxAgeMs;
    if (!tooOld && total <= policy.maxBytes) break;
    doomed.push(clip.path);
    total -= clip.sizeBytes;
  }
  return doomed;
}
