import cliProgress from 'cli-progress';

/** A progress bar on a terminal; silent (no-op) when stderr is not one or progress is off. */
export interface Progress {
  update(value: number, label?: string): void;
  stop(): void;
}

export function progressBar(enabled: boolean, title: string, total: number, unit: string): Progress {
  if (!enabled || !process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      format: `${title.padEnd(12)} {bar} {percentage}% | {value}/{total} ${unit} | {label}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(Math.max(1, Math.round(total)), 0, { label: '' });
  return {
    update: (value, label) => bar.update(Math.round(value), { label: label ?? '' }),
    stop: () => bar.stop(),
  };
}
