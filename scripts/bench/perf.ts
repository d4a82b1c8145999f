import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every Linux we run on). */
const CLK_TCK = 100;

/**
 * CPU seconds used by this process and by its children that have exited and been reaped (ffmpeg
 * decoders), read from /proc/self/stat. Divide audio seconds by a difference of these to get "times
 * real time per core": a measure that does not depend on how busy the other core is.
 */
export function cpuSecWithChildren(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime are fields 14-17 (1-based), i.e. 11-14 after the name.
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    return ticks / CLK_TCK;
  } catch {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  }
}

/** CPU seconds of this process only, microsecond resolution (no child processes). */
export function cpuSecSelf(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export interface Timing {
  wallSec: number;
  cpuSec: number;
}

/** Times an async step: wall clock and CPU (this process plus reaped children). */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; timing: Timing }> {
  const w0 = performance.now();
  const c0 = cpuSecWithChildren();
  const value = await fn();
  // Let the event loop reap a child that has just exited so its CPU time is counted.
  await new Promise((r) => setTimeout(r, 5));
  return {
    value,
    timing: { wallSec: (performance.now() - w0) / 1000 - 0.005, cpuSec: cpuSecWithChildren() - c0 },
  };
}

/** Times a synchronous step in this process (no children): wall and CPU at microsecond resolution. */
export function timedSync<T>(fn: () => T): { value: T; timing: Timing } {
  const w0 = performance.now();
  const c0 = cpuSecSelf();
  const value = fn();
  return { value, timing: { wallSec: (performance.now() - w0) / 1000, cpuSec: cpuSecSelf() - c0 } };
}

/** Peak resident memory (VmHWM) of this process, bytes; null off Linux. */
export function vmHwmBytes(): number | null {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Samples process.memoryUsage().rss every `intervalMs` and keeps the peak, per named phase. */
export class MemorySampler {
  private timer: NodeJS.Timeout | undefined;
  private phase = 'start';
  readonly peaks: Record<string, number> = {};

  start(intervalMs = 200): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  enter(phase: string): void {
    this.sample();
    this.phase = phase;
    this.sample();
  }

  sample(): void {
    const rss = process.memoryUsage().rss;
    if (rss > (this.peaks[this.phase] ?? 0)) this.peaks[this.phase] = rss;
  }

  stop(): void {
    this.sample();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  get overallPeak(): number {
    return Math.max(0, ...Object.values(this.peaks));
  }
}
