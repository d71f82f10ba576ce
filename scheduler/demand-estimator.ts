/**
 * Demand estimate of one function from request-rate samples with timestamps: Holt's linear
 * smoothing (level + trend, on irregular intervals), the recent peak, and a headroom factor.
 * Pure: it never reads a clock; whoever feeds it says when each sample was taken.
 */
import { PlatformError } from '../core/errors.ts';

export interface DemandEstimatorOptions {
  /** Level smoothing (0–1], default 0.5. */
  alpha?: number;
  /** Trend smoothing (0–1], default 0.3. */
  beta?: number;
  /** Multiplier on the estimate (capacity kept spare), default 1.2. */
  headroom?: number;
  /** How far ahead the trend is projected, ms; default 10 s. */
  horizonMs?: number;
  /** The estimate never drops below the highest sample of this recent window, ms; default 20 s. */
  peakWindowMs?: number;
  /** All samples zero for this long → idle (estimate 0), ms; default 60 s. */
  idleAfterMs?: number;
}

export interface DemandEstimate {
  /** Requests/s to provision for (headroom included); 0 when idle. */
  rps: number;
  level: number;
  /** Change of the level, requests/s per second. */
  trendPerS: number;
  recentPeak: number;
  idle: boolean;
}

export interface DemandEstimator {
  observe(atMs: number, rps: number): void;
  estimate(): DemandEstimate;
}

export function createDemandEstimator(options: DemandEstimatorOptions = {}): DemandEstimator {
  const o = {
    alpha: 0.5,
    beta: 0.3,
    headroom: 1.2,
    horizonMs: 10_000,
    peakWindowMs: 20_000,
    idleAfterMs: 60_000,
    ...options,
  };
  if (!(o.alpha > 0 && o.alpha <= 1) || !(o.beta >= 0 && o.beta <= 1))
    throw new PlatformError('bad_request', 'alpha must be in (0, 1] and beta in [0, 1]');
  if (!(o.headroom >= 1)) throw new PlatformError('bad_request', `headroom must be ≥ 1, got ${o.headroom}`);
  let level = 0;
  let trend = 0;
  let last: number | undefined;
  let lastNonZero: number | undefined;
  const recent: [number, number][] = [];
  return {
    observe(atMs, rps) {
      if (!(rps >= 0) || !Number.isFinite(atMs))
        throw new PlatformError('bad_request', `a demand sample needs a time and a rate ≥ 0, got ${atMs}, ${rps}`);
      if (last !== undefined && atMs <= last)
        throw new PlatformError('bad_request', `demand samples must move forward in time (${atMs} after ${last})`);
      if (last === undefined) {
        level = rps;
      } else {
        const dtS = (atMs - last) / 1000;
        const prev = level;
        level = o.alpha * rps + (1 - o.alpha) * (level + trend * dtS);
        trend = o.beta * ((level - prev) / dtS) + (1 - o.beta) * trend;
      }
      if (rps > 0) lastNonZero = atMs;
      last = atMs;
      recent.push([atMs, rps]);
      while (recent.length && recent[0]![0] < atMs - o.peakWindowMs) recent.shift();
    },
    estimate() {
      const recentPeak = recent.reduce((m, [, r]) => Math.max(m, r), 0);
      const idle =
        last !== undefined && recentPeak === 0 && (lastNonZero === undefined || last - lastNonZero >= o.idleAfterMs);
      if (last === undefined || idle) return { rps: 0, level, trendPerS: trend, recentPeak, idle: last !== undefined };
      const projected = level + trend * (o.horizonMs / 1000);
      return { rps: o.headroom * Math.max(projected, recentPeak, 0), level, trendPerS: trend, recentPeak, idle: false };
    },
  };
}
