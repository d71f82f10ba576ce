/**
 * An online estimate of batch latency ℓ(b): an exponentially weighted mean per observed batch size;
 * unobserved sizes are interpolated linearly between observed neighbours; outside the observed
 * range the nearest observed mean is scaled by the prior's shape, prior(b) / prior(nearest).
 * Before any observation, `prior(b)`.
 */
export interface LatencyEstimator {
  estimate(batch: number): number;
  observe(batch: number, ms: number): void;
  /** Observed sizes and their means, for metrics and logs. */
  snapshot(): Record<number, number>;
}

export interface LatencyEstimatorOptions {
  /** Estimate before anything is observed (e.g. from the calibration table or a warm-up run). */
  prior: (batch: number) => number;
  /** Weight of the newest sample (0..1]; default 0.2. */
  alpha?: number;
}

export function createLatencyEstimator(options: LatencyEstimatorOptions): LatencyEstimator {
  const alpha = options.alpha ?? 0.2;
  if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`alpha must be in (0, 1], got ${alpha}`);
  const mean = new Map<number, number>();
  let sizes: number[] = [];

  return {
    observe(batch, ms) {
      if (!(batch >= 1) || !(ms >= 0) || !Number.isFinite(ms)) return;
      const old = mean.get(batch);
      mean.set(batch, old === undefined ? ms : old + alpha * (ms - old));
      if (old === undefined) sizes = [...mean.keys()].sort((a, b) => a - b);
    },
    estimate(batch) {
      const exact = mean.get(batch);
      if (exact !== undefined) return exact;
      if (sizes.length === 0) return options.prior(batch);
      const lower = sizes.filter((s) => s < batch).pop();
      const upper = sizes.find((s) => s > batch);
      if (lower !== undefined && upper !== undefined) {
        const l = mean.get(lower)!;
        const u = mean.get(upper)!;
        return l + ((u - l) * (batch - lower)) / (upper - lower);
      }
      const nearest = (lower ?? upper)!;
      const ratio = options.prior(batch) / options.prior(nearest);
      const scale = Number.isFinite(ratio) && ratio > 0 ? ratio : batch / nearest;
      return mean.get(nearest)! * scale;
    },
    snapshot: () => Object.fromEntries(mean),
  };
}
