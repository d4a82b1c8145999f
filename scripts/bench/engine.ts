import { decodeAudio, decodeAudioFile } from '../../src/audio/index.js';
import { ANALYSIS_SAMPLE_RATE, extractPeaks, type Peak } from '../../src/fingerprint/index.js';
import { enrollFile, ReferenceIndex } from '../../src/index/index.js';
import { matchFile, matchPeaks } from '../../src/match/index.js';
import type { BenchEngine, EngineIndexHandle } from './bench.js';

/** The real engine (src/) behind the benchmark's small interface. */
export const tyndauEngine: BenchEngine = {
  analysisSampleRate: ANALYSIS_SAMPLE_RATE,
  openIndex(dir: string): EngineIndexHandle {
    const index = ReferenceIndex.open(dir);
    return {
      has: (id) => index.get(id) !== undefined,
      enroll: async (path, id, title) => {
        const r = await enrollFile(index, path, { id, title });
        return { status: r.status, durationSec: r.durationSec, duplicateOf: r.duplicateOf };
      },
      stats: () => index.stats(),
      padSynthetic: (hours, seed) => index.padSynthetic(hours, seed),
      decodeToSink: async (path) => {
        let samples = 0;
        for await (const chunk of decodeAudio(path, { sampleRate: ANALYSIS_SAMPLE_RATE }))
          samples += chunk.length;
        return samples;
      },
      decodeFile: (path) => decodeAudioFile(path, { sampleRate: ANALYSIS_SAMPLE_RATE }),
      extractPeaks: (pcm) => extractPeaks(pcm, 'query'),
      matchPeaks: (peaks) => matchPeaks(index, peaks as Peak[]),
      matchFile: (path, opts) => matchFile(index, path, opts),
      close: () => index.close(),
    };
  },
};
