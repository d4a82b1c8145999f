/** What `tyndau centre status` (and, proposed, `tyndau channels status`) shows of distributed mode. */
import { Queue } from 'bullmq';
import type { Store } from '../store/index.js';
import { BATCH_QUEUE, RESULT_QUEUE, connectRedis, keys } from './redis.js';
import { DistributedRepository } from './repository.js';

export interface DistributedStatus {
  /** Job counts per queue and state; null when Redis cannot be reached. */
  queues: Record<string, Record<string, number>> | null;
  /** Counted by the workers since Redis started: retries, stalled, rejected:REASON. */
  workerEvents: Record<string, number> | null;
  /** Rejected batches in the database, by reason (all time). */
  rejections: Record<string, number>;
  channels: Array<{
    channelId: string;
    nodeId: string | null;
    nextSeq: number;
    /** Seconds from the end of the audio stitched so far to now. */
    lagSec: number | null;
    batchesApplied: number;
    batchesLost: number;
    lastBatchAtMs: number | null;
  }>;
}

export async function distributedStatus(
  store: Store,
  redis: { url: string; prefix: string; timeoutMs?: number } | null,
  nowMs: number = Date.now(),
): Promise<DistributedStatus> {
  const repo = new DistributedRepository(store.db);
  const cursors = await repo.cursors();
  const status: DistributedStatus = {
    queues: null,
    workerEvents: null,
    rejections: await repo.rejectionCounts(),
    channels: cursors.map((c) => ({
      channelId: c.channelId,
      nodeId: c.nodeId,
      nextSeq: c.nextSeq,
      lagSec: c.positionMs === null ? null : Math.max(0, (nowMs - c.positionMs) / 1000),
      batchesApplied: c.batchesApplied,
      batchesLost: c.batchesLost,
      lastBatchAtMs: c.lastSealedAtMs,
    })),
  };
  if (redis) {
    const client = connectRedis(redis.url, 'plain', 'tyndau-status');
    const queues = [BATCH_QUEUE, RESULT_QUEUE].map(
      (n) => new Queue(n, { connection: client, prefix: redis.prefix }),
    );
    const read = async () => {
      const types = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;
      const counts = await Promise.all(queues.map((q) => q.getJobCounts(...types)));
      status.queues = { [BATCH_QUEUE]: counts[0], [RESULT_QUEUE]: counts[1] };
      const ev = await client.hgetall(keys(redis.prefix).stats);
      status.workerEvents = Object.fromEntries(Object.entries(ev).map(([k, v]) => [k, Number(v)]));
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      // Redis unreachable: the database part still answers, after a short wait
      await Promise.race([read(), new Promise((r) => (timer = setTimeout(r, redis.timeoutMs ?? 3000)))]);
    } catch {
      // as above
    } finally {
      clearTimeout(timer);
      await Promise.all(queues.map((q) => q.close().catch(() => {})));
      client.disconnect();
    }
  }
  return status;
}

export function formatDistributedStatus(s: DistributedStatus): string {
  const lines: string[] = [];
  if (s.queues) {
    for (const [q, c] of Object.entries(s.queues)) {
      lines.push(
        `queue ${q}: ${Object.entries(c)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
    }
  } else lines.push('queues: Redis not reachable');
  if (s.workerEvents) {
    const e = Object.entries(s.workerEvents);
    lines.push(
      `worker events since Redis start: ${e.length ? e.map(([k, v]) => `${k} ${v}`).join(', ') : 'none'}`,
    );
  }
  const r = Object.entries(s.rejections);
  lines.push(`rejected batches (all time): ${r.length ? r.map(([k, v]) => `${k} ${v}`).join(', ') : 'none'}`);
  const head = ['channel', 'node', 'next batch', 'lag', 'applied', 'lost', 'last batch sealed (UTC)'];
  const rows = s.channels.map((c) => [
    c.channelId,
    c.nodeId ?? '-',
    String(c.nextSeq),
    c.lagSec === null ? '-' : `${c.lagSec.toFixed(1)} s`,
    String(c.batchesApplied),
    String(c.batchesLost),
    c.lastBatchAtMs === null ? '-' : new Date(c.lastBatchAtMs).toISOString().replace(/\.\d+Z$/, 'Z'),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i].length)));
  const fmt = (x: string[]) =>
    x
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  lines.push(fmt(head), ...rows.map(fmt));
  return lines.join('\n') + '\n';
}
