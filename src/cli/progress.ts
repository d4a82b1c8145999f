import cliProgress from 'cli-progress';

/** A progress bar on stderr when it is a terminal; silent otherwise (logs and CI stay clean). */
export interface Progress {
  update(value: number, label?: string): void;
  setTotal(total: number): void;
  stop(): void;
}

export function progressBar(total: number, unit: string, enabled = process.stderr.isTTY === true): Progress {
  if (!enabled) return { update() {}, setTotal() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `{bar} {percentage}% | {value}/{total} ${unit} | {label}`,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(Math.max(1, Math.round(total)), 0, { label: '' });
  return {
    update: (v, label) => bar.update(Math.round(v), label === undefined ? {} : { label }),
    setTotal: (t) => bar.setTotal(Math.max(1, Math.round(t))),
    stop: () => bar.stop(),
  };
}
