import { checkTimeZone } from './health.js';
import { isRecordedSource, sourceFromJson } from './source.js';
import { CHANNEL_KINDS, type Channel, type ChannelKind } from './types.js';

/** A channel as written by a person (CLI flags or a config file), before validation. */
export interface ChannelInput {
  id: unknown;
  name?: unknown;
  broadcaster?: unknown;
  kind?: unknown;
  timeZone?: unknown;
  sources?: unknown;
  latencySec?: unknown;
  enabled?: unknown;
}

/** The largest latency a channel may declare, seconds. */
export const MAX_LATENCY_SEC = 600;

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Checks every field and says exactly which one is wrong. */
export function validateChannel(input: ChannelInput, createdAtMs: number, where = 'channel'): Channel {
  const id = input.id;
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new Error(
      `${where}: id must be 1-64 letters, digits, '.', '_' or '-' (starting with a letter or digit), got ${JSON.stringify(id)}`,
    );
  }
  const at = `${where} ${id}`;
  const name = input.name ?? id;
  if (typeof name !== 'string' || name.trim() === '')
    throw new Error(`${at}: name must be a non-empty string`);
  const kind = input.kind ?? 'radio';
  if (typeof kind !== 'string' || !CHANNEL_KINDS.includes(kind as ChannelKind)) {
    throw new Error(`${at}: kind must be one of ${CHANNEL_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  }
  const timeZone = input.timeZone ?? 'Asia/Almaty';
  if (typeof timeZone !== 'string') throw new Error(`${at}: timeZone must be a string`);
  try {
    checkTimeZone(timeZone);
  } catch (err) {
    throw new Error(`${at}: ${(err as Error).message}`);
  }
  const broadcaster = input.broadcaster ?? null;
  if (broadcaster !== null && (typeof broadcaster !== 'string' || broadcaster.trim() === '')) {
    throw new Error(`${at}: broadcaster must be a non-empty string when given`);
  }
  const rawSources = input.sources;
  if (!Array.isArray(rawSources) || rawSources.length === 0) {
    throw new Error(`${at}: at least one source is needed (in priority order)`);
  }
  const sources = rawSources.map((s, i) => sourceFromJson(s, `${at} source ${i + 1}`));
  const recorded = sources.filter(isRecordedSource).length;
  if (recorded > 0 && sources.length > 1) {
    throw new Error(
      `${at}: a file or folder source must be the channel's only source (it is played, not listened to)`,
    );
  }
  const latencySec = input.latencySec ?? 0;
  if (typeof latencySec !== 'number' || !(latencySec >= 0 && latencySec <= MAX_LATENCY_SEC)) {
    throw new Error(
      `${at}: latencySec must be a number of seconds from 0 to ${MAX_LATENCY_SEC}, got ${typeof latencySec === 'number' ? latencySec : JSON.stringify(latencySec)}`,
    );
  }
  const enabled = input.enabled ?? true;
  if (typeof enabled !== 'boolean') throw new Error(`${at}: enabled must be true or false`);
  return {
    id,
    name: name.trim(),
    broadcasterId: broadcaster,
    kind: kind as ChannelKind,
    timeZone,
    sources,
    latencySec,
    enabled,
    createdAtMs,
  };
}

/**
 * Reads a channels config file's JSON: `{ "channels": [ { "id", "name", "broadcaster", "kind",
 * "timeZone", "sources": ["http://..."], "latencySec", "enabled" } ] }` (or the bare array).
 */
export function channelsFromConfig(json: unknown, createdAtMs: number, fileName: string): Channel[] {
  const list = Array.isArray(json) ? json : (json as { channels?: unknown } | null)?.channels;
  if (!Array.isArray(list))
    throw new Error(`${fileName}: expected {"channels": [...]} or an array of channels`);
  const seen = new Set<string>();
  return list.map((item, i) => {
    if (!item || typeof item !== 'object') throw new Error(`${fileName}: channel ${i + 1} is not an object`);
    const ch = validateChannel(item as ChannelInput, createdAtMs, `${fileName}: channel ${i + 1}`);
    if (seen.has(ch.id)) throw new Error(`${fileName}: channel id ${ch.id} appears twice`);
    seen.add(ch.id);
    return ch;
  });
}
