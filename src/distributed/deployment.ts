/**
 * One configuration for every role: a JSON file (TYNDAU_CONFIG or --config) and environment
 * variables, the latter winning. TYNDAU_REDIS_URL is the switch: without it Tyndau runs embedded
 * (one process, no Redis); with it the roles run apart. Pure: the caller reads the file.
 */
import { hostname } from 'node:os';
import { monitorConfig, type MonitorConfig } from '../monitor/index.js';
import { distributedConfig, type DistributedConfig } from './config.js';

export interface Deployment {
  /** null: embedded mode. */
  redisUrl: string | null;
  /** Key prefix in Redis (several deployments may share one Redis). */
  prefix: string;
  /** The system of record (centre): sqlite:PATH or postgres://... */
  db: string;
  /** Reference index folder (matcher workers; the centre watches it to notify workers of changes). */
  indexDir: string;
  /** Capture node: spools and its own state database. */
  spoolDir: string;
  /** Capture node: air-check clips (null: none). */
  evidenceDir: string | null;
  /** Capture node's name in batches and logs. */
  nodeId: string;
  distributed: DistributedConfig;
  monitor: MonitorConfig;
}

const FILE_KEYS = new Set([
  'redisUrl',
  'prefix',
  'db',
  'index',
  'spool',
  'evidence',
  'nodeId',
  'distributed',
  'monitor',
]);

/** Builds the deployment from a parsed config file (or null) and the environment. */
export function deploymentFromEnv(
  env: Record<string, string | undefined>,
  file: unknown = null,
  fileName = 'config file',
): Deployment {
  let f: Record<string, unknown> = {};
  if (file !== null) {
    if (!file || typeof file !== 'object' || Array.isArray(file))
      throw new Error(`${fileName}: must be a JSON object`);
    f = file as Record<string, unknown>;
    for (const k of Object.keys(f)) {
      if (!FILE_KEYS.has(k))
        throw new Error(`${fileName}: unknown setting "${k}" (known: ${[...FILE_KEYS].join(', ')})`);
    }
  }
  const text = (key: string, envName: string, fallback: string | null): string | null => {
    const e = env[envName];
    if (e !== undefined && e !== '') return e;
    const v = f[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string' || v === '') throw new Error(`${fileName}: ${key} must be a non-empty string`);
    return v;
  };
  const section = (key: string): Record<string, unknown> => {
    const v = f[key];
    if (v === undefined) return {};
    if (!v || typeof v !== 'object' || Array.isArray(v))
      throw new Error(`${fileName}: ${key} must be an object`);
    return v as Record<string, unknown>;
  };
  const redisUrl = text('redisUrl', 'TYNDAU_REDIS_URL', null);
  if (redisUrl !== null && !/^rediss?:\/\/[^/]/.test(redisUrl)) {
    throw new Error(`TYNDAU_REDIS_URL must look like redis://HOST:PORT, got "${redisUrl}"`);
  }
  const prefix = text('prefix', 'TYNDAU_REDIS_PREFIX', 'tyndau')!;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(prefix))
    throw new Error(`the Redis prefix must be 1-64 letters, digits, . _ -, got "${prefix}"`);
  const nodeId = text(
    'nodeId',
    'TYNDAU_NODE_ID',
    hostname()
      .replace(/[^A-Za-z0-9_.-]/g, '-')
      .slice(0, 64) || 'node',
  )!;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(nodeId))
    throw new Error(`the node id must be 1-64 letters, digits, . _ -, got "${nodeId}"`);
  let distributed: DistributedConfig;
  let monitor: MonitorConfig;
  try {
    distributed = distributedConfig(section('distributed'));
    monitor = monitorConfig(section('monitor') as Partial<MonitorConfig>);
  } catch (err) {
    throw new Error(`${fileName}: ${(err as Error).message}`);
  }
  const evidence = text('evidence', 'TYNDAU_EVIDENCE', 'data/evidence');
  return {
    redisUrl,
    prefix,
    db: text('db', 'TYNDAU_DB', 'sqlite:data/tyndau.db')!,
    indexDir: text('index', 'TYNDAU_INDEX', 'fingerprints')!,
    spoolDir: text('spool', 'TYNDAU_SPOOL', 'data/capture')!,
    evidenceDir: evidence === 'none' ? null : evidence,
    nodeId,
    distributed,
    monitor,
  };
}
