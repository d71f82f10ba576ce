/**
 * An online estimate of batch latency ℓ(b), meant to follow what the replica measures now:
 * - per observed batch size, an exponentially weighted mean; a sample below the mean pulls it
 *   with `fallAlpha` (default 0.5), faster than one above it (`alpha`, 0.2): a too-high estimate
 *   refuses work and is only corrected by served calls, so it must fall back within a few of
 *   them, while a single slow call (a pause, a neighbour's burst) moves it only a little;
 * - an estimate that has not been confirmed for a while loses weight: what a mean exceeds its
 *   prior by halves every `staleHalfLifeMs` (default 30 s) without a sample of that size, so a
 *   figure measured during an overload cannot outlive it (a mean below its prior stays: a too-low
 *   estimate is corrected by the next batch served);
 * - `seed` records a provisional figure (a warm-up run: first kernels, a crowded device while
 *   every replica starts); it is used until the first real sample of that size, which replaces it;
 * - unobserved sizes are interpolated linearly between observed neighbours; outside the observed
 *   range the nearest observed mean is scaled by the prior's shape, prior(b) / prior(nearest).
 * Before any observation, `prior(b)`.
 */
import type { Clock } from 'fastgshare/core/clock.ts';

export interface LatencyEstimator {
  estimate(batch: number): number;
  /** A measured batch latency (ms). */
  observe(batch: number, ms: number): void;
  /** A provisional figure (warm-up), replaced by the first `observe` of that size. */
  seed(batch: number, ms: number): void;
  /** Current estimates of the observed (or seeded) sizes, for metrics and logs. */
  snapshot(): Record<number, number>;
}

export interface LatencyEstimatorOptions {
  /** Estimate before anything is observed (e.g. from the calibration table or a warm-up run). */
  prior: (batch: number) => number;
  /** Weight of a new sample above the mean (0..1]; default 0.2. */
  alpha?: number;
  /** Weight of a new sample below the mean (0..1]; default 0.5. */
  fallAlpha?: number;
  /** Half-life (ms) of what a mean exceeds its prior by, without samples; default 30 000. */
  staleHalfLifeMs?: number;
  /** Time source for the staleness decay; without one, estimates do not decay with time. */
  clock?: Pick<Clock, 'now'>;
}

export const DEFAULT_STALE_HALF_LIFE_MS = 30_000;

interface Mean {
  ms: number;
  /** When it was last set (clock ms). */
  at: number;
  /** Set by `seed`, not yet confirmed by a real sample. */
  provisional: boolean;
}

function fraction(name: string, v: number): number {
  if (!(v > 0 && v <= 1)) throw new RangeError(`${name} must be in (0, 1], got ${v}`);
  return v;
}

export function createLatencyEstimator(options: LatencyEstimatorOptions): LatencyEstimator {
  const alpha = fraction('alpha', options.alpha ?? 0.2);
  const fallAlpha = fraction('fallAlpha', options.fallAlpha ?? 0.5);
  const halfLife = options.staleHalfLifeMs ?? DEFAULT_STALE_HALF_LIFE_MS;
  if (!(halfLife > 0)) throw new RangeError(`staleHalfLifeMs must be > 0, got ${halfLife}`);
  const now = () => options.clock?.now() ?? 0;
  const means = new Map<number, Mean>();
  let sizes: number[] = [];

  /** The mean of `batch` as of now: its excess over the prior decayed by its age. */
  const current = (batch: number, m: Mean): number => {
    const floor = options.prior(batch);
    if (!options.clock || !(m.ms > floor) || !Number.isFinite(floor)) return m.ms;
    const age = Math.max(0, now() - m.at);
    return floor + (m.ms - floor) * 2 ** (-age / halfLife);
  };

  const set = (batch: number, m: Mean) => {
    const isNew = !means.has(batch);
    means.set(batch, m);
    if (isNew) sizes = [...means.keys()].sort((a, b) => a - b);
  };

  const valid = (batch: number, ms: number) => Number.isInteger(batch) && batch >= 1 && ms >= 0 && Number.isFinite(ms);

  return {
    observe(batch, ms) {
      if (!valid(batch, ms)) return;
      const old = means.get(batch);
      if (old === undefined || old.provisional) return set(batch, { ms, at: now(), provisional: false });
      const mean = current(batch, old);
      const a = ms < mean ? fallAlpha : alpha;
      set(batch, { ms: mean + a * (ms - mean), at: now(), provisional: false });
    },
    seed(batch, ms) {
      if (!valid(batch, ms)) return;
      const old = means.get(batch);
      if (old !== undefined && !old.provisional) return; // a real measurement outranks a warm-up
      set(batch, { ms, at: now(), provisional: true });
    },
    estimate(batch) {
      const exact = means.get(batch);
      if (exact !== undefined) return current(batch, exact);
      if (sizes.length === 0) return options.prior(batch);
      const lower = sizes.filter((s) => s < batch).pop();
      const upper = sizes.find((s) => s > batch);
      if (lower !== undefined && upper !== undefined) {
        const l = current(lower, means.get(lower)!);
        const u = current(upper, means.get(upper)!);
        return l + ((u - l) * (batch - lower)) / (upper - lower);
      }
      const nearest = (lower ?? upper)!;
      const ratio = options.prior(batch) / options.prior(nearest);
      const scale = Number.isFinite(ratio) && ratio > 0 ? ratio : batch / nearest;
      return current(nearest, means.get(nearest)!) * scale;
    },
    snapshot: () => Object.fromEntries([...means].map(([b, m]) => [b, current(b, m)])),
  };
}
