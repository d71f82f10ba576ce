/**
 * The cheapest set of replicas that covers a function's demand (pure).
 * Minimises Σ cost over a multiset of profiled configurations whose throughput adds up to the
 * demand: any number of saturated-feasible configurations (2·ℓ(b) ≤ SLO; feasible at any rate, since
 * a replica batches what is queued) plus one "residual" that serves what the others leave, r, and is
 * either saturated-feasible or passes the Nexus check at r ((b − 1)/r + ℓ(b) ≤ SLO).
 * Branch and bound over the configurations no other one beats on both rps and cost, most
 * cost-efficient first: the first leaf is the classic plan (⌊demand / rps_eff⌋ × eff + the cheapest
 * residual that covers the rest), so the search only ever improves on it; it prunes with the lower
 * bound remaining demand / best rps-per-cost and stops after `nodeBudget` nodes (counted, no clock),
 * keeping the best cover found. Ties: fewer replicas, then more capacity.
 * Cost is the area (quota × partition) unless the caller weighs configurations differently.
 */
import { configArea, type ProfileEntry } from '../core/profiles/profile-table.ts';
import { residualFeasible, saturatedFeasible } from './feasibility.ts';

export interface CoverOptions {
  /** Most replicas the cover may use. */
  maxReplicas: number;
  /** Search nodes after which the best cover so far is returned (the descent to the first cover always completes). */
  nodeBudget: number;
}

export interface Cover {
  /** Replicas that run at their capacity, most cost-efficient configuration first. */
  saturated: ProfileEntry[];
  /** The replica that serves what the saturated ones leave, and that rate (absent at demand 0). */
  residual?: { entry: ProfileEntry; rateRps: number };
  cost: number;
  area: number;
  capacityRps: number;
  /** Search nodes visited, and whether the search finished (the cover is then the cheapest). */
  nodes: number;
  exhaustive: boolean;
}

export interface Item {
  e: ProfileEntry;
  cost: number;
  rps: number;
}

/** What a profile offers the search at one SLO and one cost function (built once, reused). */
export interface CoverMenu {
  /** Always-feasible configurations nothing beats: rps descending, cost strictly descending. */
  frontier: Item[];
  /** The same, most rps per cost first (branching order). */
  order: Item[];
  /** Residual-only configurations and the least rate at which each passes the Nexus check. */
  nexus: { it: Item; minRate: number }[];
  /** Best rps per unit of cost of anything on the menu (for the lower bound). */
  maxEfficiency: number;
  sloMs: number;
}

const EPS = 1e-9;

/**
 * `saturated`: the b* entry of every (partition, quota) that has one (feasibility.ts
 * saturatedCandidates). `entries`: every profiled entry (residual-only configurations come from it).
 */
export function coverMenu(
  saturated: readonly ProfileEntry[],
  entries: readonly ProfileEntry[],
  sloMs: number,
  cost: (e: ProfileEntry) => number = configArea,
): CoverMenu | undefined {
  if (saturated.length === 0) return undefined;
  const items = saturated
    .map((e) => ({ e, cost: cost(e), rps: e.rps }))
    .sort((a, b) => b.rps - a.rps || a.cost - b.cost);
  const frontier: Item[] = [];
  for (const it of items)
    if (frontier.length === 0 || it.cost < frontier[frontier.length - 1]!.cost - EPS) frontier.push(it);
  const nexus: CoverMenu['nexus'] = [];
  for (const e of entries) {
    if (e.latencyMs.p50 >= sloMs || saturatedFeasible(e, sloMs)) continue;
    const it = { e, cost: cost(e), rps: e.rps };
    if (frontier.some((s) => s.rps >= it.rps - EPS && s.cost <= it.cost + EPS)) continue;
    nexus.push({ it, minRate: ((e.batch - 1) * 1000) / (sloMs - e.latencyMs.p50) });
  }
  const order = [...frontier].sort((a, b) => b.rps / b.cost - a.rps / a.cost || b.rps - a.rps);
  let maxEfficiency = order[0]!.rps / order[0]!.cost;
  for (const n of nexus) maxEfficiency = Math.max(maxEfficiency, n.it.rps / n.it.cost);
  return { frontier, order, nexus, maxEfficiency, sloMs };
}

/** The cheapest cover of `demandRps` from a menu, or undefined when none fits in `maxReplicas`. */
export function cheapestCover(demandRps: number, menu: CoverMenu, opts: CoverOptions): Cover | undefined {
  if (!(demandRps > EPS)) return { saturated: [], cost: 0, area: 0, capacityRps: 0, nodes: 0, exhaustive: true };
  if (opts.maxReplicas < 1) return undefined;
  const { frontier, order, nexus, maxEfficiency, sloMs } = menu;
  // Cheapest always-feasible closer for rate x: the last frontier entry with rps ≥ x.
  const closeSat = (x: number): Item | undefined => {
    if (frontier[0]!.rps < x - EPS) return undefined;
    let lo = 0;
    let hi = frontier.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (frontier[mid]!.rps >= x - EPS) lo = mid;
      else hi = mid - 1;
    }
    return frontier[lo];
  };
  const close = (x: number): Item | undefined => {
    let best = closeSat(x);
    for (const n of nexus) {
      if (n.it.rps < x - EPS || x + EPS < n.minRate || (best && n.it.cost >= best.cost - EPS)) continue;
      if (residualFeasible(n.it.e, sloMs, x)) best = n.it;
    }
    return best;
  };

  const path: Item[] = [];
  let best: { items: Item[]; closer: Item; rest: number; cost: number; cap: number } | undefined;
  let nodes = 0;
  const better = (cost: number, count: number, cap: number) => {
    if (!best) return true;
    if (cost < best.cost - EPS) return true;
    if (cost > best.cost + EPS) return false;
    const bc = best.items.length + 1;
    return count < bc || (count === bc && cap > best.cap + EPS);
  };
  const visit = (from: number, x: number, cost: number, cap: number): void => {
    // The budget counts from the first cover found (the classic plan), so there always is one.
    if (++nodes > opts.nodeBudget && best) return;
    if (best && cost + x / maxEfficiency > best.cost + EPS) return;
    // Close here with one replica …
    const c = close(x);
    if (c && better(cost + c.cost, path.length + 1, cap + c.rps))
      best = { items: [...path], closer: c, rest: x, cost: cost + c.cost, cap: cap + c.rps };
    if (path.length + 2 > opts.maxReplicas) return;
    // … or add one that does not cover x alone, and go on (non-increasing index: each multiset once).
    for (let i = from; i < order.length && (nodes <= opts.nodeBudget || !best); i++) {
      const it = order[i]!;
      if (it.rps >= x - EPS) continue;
      path.push(it);
      visit(i, x - it.rps, cost + it.cost, cap + it.rps);
      path.pop();
    }
  };
  visit(0, demandRps, 0, 0);
  if (!best) return undefined;
  const b = best as { items: Item[]; closer: Item; rest: number; cost: number; cap: number };
  const saturated = b.items.map((i) => i.e);
  return {
    saturated,
    residual: { entry: b.closer.e, rateRps: b.rest },
    cost: b.cost,
    area: saturated.reduce((s, e) => s + configArea(e), configArea(b.closer.e)),
    capacityRps: b.cap,
    nodes,
    // Past the budget some branch may have been cut; within it the search ran to the end.
    exhaustive: nodes <= opts.nodeBudget,
  };
}
