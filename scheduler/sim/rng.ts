/** A small seeded random source (mulberry32) so every run with the same seed is identical. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Exponential with the given rate (events per unit). */
  exp(rate: number): number;
  between(lo: number, hi: number): number;
}

export function createRng(seed: number): Rng {
  let s = seed >>> 0 || 0x9e3779b9;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    exp: (rate) => -Math.log(1 - next()) / rate,
    between: (lo, hi) => lo + (hi - lo) * next(),
  };
}

/** A seed for one stream derived from a run seed (stable across policies). */
export function streamSeed(seed: number, stream: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) + Math.imul(stream + 1, 0x165667b1)) >>> 0;
}
