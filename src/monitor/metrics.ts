import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Anchoring } from './hls.js';
import type { ChannelState } from './types.js';

const ANCHORINGS: Anchoring[] = ['program_date_time', 'arrival', 'file'];

const STATES: ChannelState[] = [
  'starting',
  'connecting',
  'listening',
  'silent',
  'reconnecting',
  'failed',
  'finished',
  'stopped',
];

/** The monitor's Prometheus metrics, in a registry of its own (so tests and several monitors do not clash). */
export class MonitorMetrics {
  readonly registry = new Registry();
  readonly channelState = new Gauge({
    name: 'tyndau_channel_state',
    help: '1 for the state each channel is in, 0 for the others',
    labelNames: ['channel', 'state'],
    registers: [this.registry],
  });
  readonly lastAudio = new Gauge({
    name: 'tyndau_channel_last_audio_timestamp_seconds',
    help: 'UTC of the last audio heard on the channel',
    labelNames: ['channel'],
    registers: [this.registry],
  });
  readonly uptime = new Gauge({
    name: 'tyndau_channel_uptime_ratio',
    help: 'Share of the last 24 h in which the channel was heard',
    labelNames: ['channel'],
    registers: [this.registry],
  });
  readonly detectionsToday = new Gauge({
    name: 'tyndau_channel_detections_today',
    help: "Detections written for the channel's current local day",
    labelNames: ['channel'],
    registers: [this.registry],
  });
  readonly audioSeconds = new Counter({
    name: 'tyndau_channel_audio_seconds_total',
    help: 'Seconds of audio processed',
    labelNames: ['channel'],
    registers: [this.registry],
  });
  readonly detections = new Counter({
    name: 'tyndau_detections_total',
    help: 'Detections written (final)',
    labelNames: ['channel'],
    registers: [this.registry],
  });
  readonly gaps = new Counter({
    name: 'tyndau_monitoring_gaps_total',
    help: 'Monitoring gaps recorded, by reason',
    labelNames: ['channel', 'reason'],
    registers: [this.registry],
  });
  readonly captureRestarts = new Counter({
    name: 'tyndau_capture_restarts_total',
    help: 'ffmpeg captures that ended, by reason',
    labelNames: ['channel', 'reason'],
    registers: [this.registry],
  });
  readonly discontinuities = new Counter({
    name: 'tyndau_clock_discontinuities_total',
    help: 'Timeline discontinuities: forward (unheard time) or backward (audio heard twice, trimmed)',
    labelNames: ['channel', 'direction'],
    registers: [this.registry],
  });
  readonly retimedSeconds = new Counter({
    name: 'tyndau_clock_retimed_seconds_total',
    help: "Seconds by which connections' audio was moved earlier once their anchor was found late (HLS bursts, load)",
    labelNames: ['channel'],
    registers: [this.registry],
  });
  readonly anchoring = new Gauge({
    name: 'tyndau_clock_anchoring',
    help: "1 for how the channel's current connection is put on UTC (program_date_time, arrival, file), 0 for the others",
    labelNames: ['channel', 'anchoring'],
    registers: [this.registry],
  });
  readonly pdtLatency = new Gauge({
    name: 'tyndau_clock_pdt_latency_seconds',
    help: "HLS anchored to #EXT-X-PROGRAM-DATE-TIME: the least delay between a chunk's airing (by its PDT) and its arrival in the current run, the latency the PDT takes out of the times",
    labelNames: ['channel'],
    registers: [this.registry],
  });
  readonly decodeErrors = new Counter({
    name: 'tyndau_capture_error_lines_total',
    help: 'Error lines printed by ffmpeg (corrupt input shows here)',
    labelNames: ['channel'],
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'tyndau_monitor_' });
  }

  setState(channel: string, state: ChannelState): void {
    for (const s of STATES) this.channelState.set({ channel, state: s }, s === state ? 1 : 0);
  }

  setAnchoring(channel: string, anchoring: Anchoring): void {
    for (const a of ANCHORINGS) this.anchoring.set({ channel, anchoring: a }, a === anchoring ? 1 : 0);
  }
}
