/**
 * Speech probabilities per frame → speech segments, with the rules of Silero's
 * get_speech_timestamps: speech starts at a frame ≥ threshold, ends after `minSilenceMs` below
 * threshold − 0.15, segments shorter than `minSpeechMs` are dropped, and each is padded by `padMs`.
 */
export interface Segment {
  startMs: number;
  endMs: number;
}

export interface SegmentOptions {
  threshold: number;
  minSpeechMs: number;
  minSilenceMs: number;
  padMs: number;
}

export const DEFAULT_SEGMENT_OPTIONS: SegmentOptions = {
  threshold: 0.5,
  minSpeechMs: 250,
  minSilenceMs: 100,
  padMs: 30,
};

export function speechSegments(
  probs: ArrayLike<number>,
  frameMs: number,
  durationMs: number,
  o: SegmentOptions = DEFAULT_SEGMENT_OPTIONS,
): Segment[] {
  const negThreshold = Math.max(o.threshold - 0.15, 0.01);
  const raw: Segment[] = [];
  let start = -1;
  let silenceFrom = -1;
  for (let i = 0; i < probs.length; i++) {
    const t = i * frameMs;
    const p = probs[i];
    if (p >= o.threshold) {
      silenceFrom = -1;
      if (start < 0) start = t;
    } else if (p < negThreshold && start >= 0) {
      if (silenceFrom < 0) silenceFrom = t;
      if (t - silenceFrom >= o.minSilenceMs) {
        if (silenceFrom - start >= o.minSpeechMs) raw.push({ startMs: start, endMs: silenceFrom });
        start = -1;
        silenceFrom = -1;
      }
    }
  }
  if (start >= 0 && durationMs - start >= o.minSpeechMs) raw.push({ startMs: start, endMs: durationMs });
  return raw.map((s, i) => ({
    startMs: Math.round(Math.max(0, s.startMs - o.padMs, i > 0 ? raw[i - 1].endMs : 0)),
    endMs: Math.round(Math.min(durationMs, s.endMs + o.padMs, i + 1 < raw.length ? raw[i + 1].startMs : durationMs)),
  }));
}
