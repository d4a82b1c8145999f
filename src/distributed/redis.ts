/** Redis connections and key names of distributed mode (an adapter: the only place that builds clients). */
import { Redis, type RedisOptions } from 'ioredis';

/** The BullMQ queue of peak batches (capture nodes -> matcher workers). */
export const BATCH_QUEUE = 'batches';
/** The BullMQ queue of match results (matcher workers -> centre). */
export const RESULT_QUEUE = 'results';
/** The BullMQ queue of air-check clips (capture nodes -> centre). */
export const EVIDENCE_QUEUE = 'evidence';

/** Key names under one deployment's prefix (several deployments or test runs can share a Redis). */
export function keys(prefix: string) {
  const p = `${prefix}:dist`;
  return {
    /** The centre's acknowledgement of a channel's batches: JSON {spoolId, seq}. */
    ack: (channelId: string) => `${p}:ack:${channelId}`,
    /** The running centre's epoch (a new one means its in-memory reorder buffers are gone). */
    centre: `${p}:centre`,
    /** Hash channel id -> channel JSON: the channels the centre accepts. */
    channels: `${p}:channels`,
    /** Hash of counters workers bump (retries, rejections by reason); lost with Redis, like the queues. */
    stats: `${p}:stats`,
    /** The centre's open and recently final airings of a channel (JSON AiringsMessage), for the node's clips. */
    airings: (channelId: string) => `${p}:airings:${channelId}`,
    /** Pub/sub: the reference index changed, refresh now. */
    catalogue: `${p}:catalogue`,
  };
}

export type Role = 'producer' | 'worker' | 'plain';

/**
 * A client for `url` (redis://[user:password@]host:port[/db]). Workers block on the queue and must
 * retry forever (BullMQ requires maxRetriesPerRequest null); a producer fails fast instead, so that a
 * capture node notices a dead link at once and keeps its spool.
 */
export function connectRedis(url: string, role: Role, name: string): Redis {
  if (!/^rediss?:\/\//.test(url))
    throw new Error(`TYNDAU_REDIS_URL must be redis://HOST:PORT or rediss://..., got "${url}"`);
  const base: RedisOptions = {
    connectionName: name,
    retryStrategy: (times) => Math.min(2000, 100 * times),
    lazyConnect: false,
  };
  const opts: RedisOptions =
    role === 'worker'
      ? { ...base, maxRetriesPerRequest: null, enableReadyCheck: true }
      : role === 'producer'
        ? { ...base, maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 5000 }
        : { ...base, maxRetriesPerRequest: 2, commandTimeout: 5000 };
  const client = new Redis(url, opts);
  // errors surface through the calls that fail; the client reconnects by itself
  client.on('error', () => {});
  return client;
}

/** The Redis server's run id: it changes when the server restarts (and, with no persistence, forgets every queue). */
export async function serverRunId(client: Redis): Promise<string | null> {
  const info = await client.info('server');
  return /run_id:(\w+)/.exec(info)?.[1] ?? null;
}

/** A URL without its password, for logs. */
export function redactUrl(url: string): string {
  return url.replace(
    /\/\/([^@/]*)@/,
    (_m, auth: string) => `//${auth.includes(':') ? auth.split(':')[0] + ':***' : '***'}@`,
  );
}
