/**
 * Which profiled configurations meet a latency SLO, and how efficient each one is.
 * ℓ = the batch latency of an entry under its quota (`latencyMs.p50`).
 * - Saturated replica (requests arrive as fast as it serves them): a batch waits about one batch
 *   time to fill and one to run, so it is feasible when 2·ℓ(b) ≤ SLO; b*(p, q) = largest such b.
 * - Residual replica at rate r (Nexus): the first request of a batch waits (b−1)/r for the rest,
 *   so it is feasible when (b−1)/r + ℓ(b) ≤ SLO.
 * Efficiency = requests/s per unit of device area (quota × partition).
 */
import { configArea, type ProfileEntry } from '../core/profiles/profile-table.ts';

export function efficiency(e: ProfileEntry): number {
  return e.rps / configArea(e);
}

export function saturatedFeasible(e: ProfileEntry, sloMs: number): boolean {
  return 2 * e.latencyMs.p50 <= sloMs;
}

export function residualFeasible(e: ProfileEntry, sloMs: number, rateRps: number): boolean {
  if (!(rateRps > 0)) return false;
  return ((e.batch - 1) / rateRps) * 1000 + e.latencyMs.p50 <= sloMs;
}

/**
 * Is `a` a better saturated choice than `b`: more efficient; on a tie the larger quota (fewer
 * replicas, and a full-time replica packs beside others as a plain partition), then faster.
 */
export function moreEfficient(a: ProfileEntry, b: ProfileEntry): boolean {
  const ea = efficiency(a);
  const eb = efficiency(b);
  if (Math.abs(ea - eb) > 1e-9 * Math.max(ea, eb)) return ea > eb;
  if (a.quota !== b.quota) return a.quota > b.quota;
  if (a.partitionPercent !== b.partitionPercent) return a.partitionPercent < b.partitionPercent;
  return a.latencyMs.p50 < b.latencyMs.p50;
}

export interface SaturatedChoice {
  /** The b*(p, q) entry of every (partition, quota) that has one, most efficient first. */
  candidates: ProfileEntry[];
  /** Entries whose batch 1 already misses the SLO (no b* exists for their (p, q)). */
  infeasible: ProfileEntry[];
}

const cache = new WeakMap<readonly ProfileEntry[], Map<number, SaturatedChoice>>();

/** The saturated candidates of a profile under an SLO (memoised per profile list and SLO). */
export function saturatedCandidates(entries: readonly ProfileEntry[], sloMs: number): SaturatedChoice {
  let bySlo = cache.get(entries);
  if (!bySlo) cache.set(entries, (bySlo = new Map()));
  const hit = bySlo.get(sloMs);
  if (hit) return hit;
  const best = new Map<string, ProfileEntry>();
  const infeasible: ProfileEntry[] = [];
  for (const e of entries) {
    const key = `${e.partitionPercent}|${e.quota}`;
    if (!saturatedFeasible(e, sloMs)) {
      if (e.batch === 1) infeasible.push(e);
      continue;
    }
    const cur = best.get(key);
    if (!cur || e.batch > cur.batch) best.set(key, e);
  }
  const candidates = [...best.values()].sort((a, b) => (moreEfficient(a, b) ? -1 : moreEfficient(b, a) ? 1 : 0));
  const out = { candidates, infeasible };
  bySlo.set(sloMs, out);
  return out;
}
