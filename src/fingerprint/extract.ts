import { PEAKS } from './config.js';
import { PeakPicker, type Peak } from './peaks.js';
import { Stft, type SpectrumFrame } from './stft.js';

/** Reference peaks are sparser (smaller index); query peaks denser (a degraded query still holds the reference's). */
export type PeakDensity = 'reference' | 'query';

/** Streaming PCM -> peaks: push chunks of mono samples at ANALYSIS_SAMPLE_RATE, receive peaks in time order. */
export class PeakExtractor {
  private readonly stft = new Stft();
  private readonly picker: PeakPicker;

  /** `onFrame` sees every STFT frame (its arrays are reused: copy what you keep). */
  constructor(
    density: PeakDensity,
    private readonly onFrame?: (frame: SpectrumFrame) => void,
  ) {
    this.picker = new PeakPicker(
      density === 'reference' ? PEAKS.maxPeaksPerBlockReference : PEAKS.maxPeaksPerBlockQuery,
    );
  }

  push(samples: Float32Array, out: Peak[] = []): Peak[] {
    this.stft.push(samples, (frame) => {
      this.onFrame?.(frame);
      for (const p of this.picker.push(frame)) out.push(p);
    });
    return out;
  }

  flush(out: Peak[] = []): Peak[] {
    for (const p of this.picker.flush()) out.push(p);
    return out;
  }

  /** STFT frames computed so far. */
  get frames(): number {
    return this.stft.framesEmitted;
  }
}

/**
 * A recording's peaks for enrolment, from one STFT: the sparse reference peaks that are hashed, and the
 * same recording's peaks at query density, kept only to verify short airings (more peaks ranked in the
 * query spectrum give a stronger test; docs/recognition.md, "Dense reference peaks").
 */
export class EnrolmentExtractor {
  private readonly dense = new PeakPicker(PEAKS.maxPeaksPerBlockQuery);
  private readonly main = new PeakExtractor('reference', (frame) => {
    for (const p of this.dense.push(frame)) this.densePeaks.push(p);
  });
  readonly peaks: Peak[] = [];
  readonly densePeaks: Peak[] = [];

  push(samples: Float32Array): void {
    this.main.push(samples, this.peaks);
  }

  /** End of input: both peak lists complete and sorted. */
  flush(): { peaks: Peak[]; densePeaks: Peak[] } {
    this.main.flush(this.peaks);
    for (const p of this.dense.flush()) this.densePeaks.push(p);
    return { peaks: sortPeaks(this.peaks), densePeaks: sortPeaks(this.densePeaks) };
  }
}

/** All peaks of a whole signal, sorted by time then frequency. */
export function extractPeaks(pcm: Float32Array, density: PeakDensity = 'query'): Peak[] {
  const ex = new PeakExtractor(density);
  const out = ex.push(pcm);
  ex.flush(out);
  return sortPeaks(out);
}

export function sortPeaks(peaks: Peak[]): Peak[] {
  return peaks.sort((a, b) => a.t - b.t || a.f - b.f);
}
