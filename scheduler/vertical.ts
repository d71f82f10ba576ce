/**
 * Vertical scaling: change the time quota of a function's running replicas before adding or
 * removing replicas (pure: the running replicas, the demand, the profile and a `DeviceRoom` in;
 * which replicas change, how, and why out).
 *
 * The knob is the quota alone. A replica keeps its partition and its largest batch, so the node
 * agent applies the new quota to the same process without a restart (fast-manager README "Replica
 * groups": a replica whose group is gone but whose process is the same moves to the group that
 * lacks it). Partition and batch are the process's: changing them rolls the replica (a new one
 * starts and must warm up, like an added replica), so this step never changes them; new replicas
 * (the horizontal part) get whatever configuration the planner finds cheapest.
 *
 * A replica of largest batch B at quota q runs at its operating point: the largest batch ≤ B that
 * meets the SLO when saturated (2·ℓ(b, q) ≤ SLO less the margin). Below it the replica forms smaller
 * batches of what is queued (dynamic batching), so its capacity at q is that batch's profiled rate.
 *
 * Replicas of one function with one configuration on one device form one group (what the node
 * agent runs as one replica group): a group is resized as a whole, so that the agent sees its old
 * group gone and moves every replica live rather than draining some and starting others.
 * - Up (demand > capacity): raise groups, those that grow most efficiently first, each to the
 *   smallest quota that covers what is missing, else to the largest its device can take; what is
 *   left gets new replicas in a shape later rounds can resize (`growableCover`): whole replicas of
 *   the efficient configuration, and the remainder as one replica of the same partition and batch
 *   at the smallest quota that covers it (raised to a full quota later, it is one more efficient
 *   replica, without a restart).
 * - Down (demand < (1 − hysteresis) × capacity, after the cooldown): what is surplus by less than a
 *   replica is absorbed by lower quotas (least efficient groups first, to the smallest quota that
 *   keeps capacity ≥ demand); a replica stops only when it is surplus as a whole (the others at
 *   their quotas cover the demand, and the function keeps its minimum), on the emptiest device first
 *   (to free devices), then the least efficient.
 */
import { configArea, configKey, type ProfileEntry, type ReplicaConfig } from '../core/profiles/profile-table.ts';
import type { DeviceRoom } from './device-room.ts';
import { saturatedFeasible } from './feasibility.ts';
import type { PlacedReplica, PlannedReplica } from './types.ts';

const EPS = 1e-9;

/** One group resized: its replicas, on one device, from one configuration to another. */
export interface ResizeNote {
  deviceId: string;
  replicaIds: string[];
  from: ReplicaConfig;
  to: ReplicaConfig;
  /** Profiled requests/s of one replica before and after. */
  fromRps: number;
  toRps: number;
}

/** A resize the device could not take. */
export interface BlockedResize {
  deviceId: string;
  replicaIds: string[];
  quota: number;
  why: string;
}

/** What `fastgshare explain` shows about the vertical step of a plan. */
export interface VerticalExplanation {
  direction: 'up' | 'down';
  /** Capacity of the running replicas before and after the step, requests/s. */
  runningRps: number;
  resizedRps: number;
  resized: ResizeNote[];
  blocked: BlockedResize[];
  /** Replicas stopped because even their lowest quotas left more capacity than the demand. */
  removed: string[];
  /** Demand left for new replicas after resizing (up), requests/s. */
  restRps: number;
  /** Replicas the planner added for `restRps`. */
  added: number;
}

export interface VerticalInput {
  demandRps: number;
  entries: readonly ProfileEntry[];
  /** The function's running replicas (as placed last round). */
  running: readonly PlacedReplica[];
  room: DeviceRoom;
  /** SLO less the planner's margin, ms. */
  sloMs: number;
  /** A planned replica at a profiled operating point (its latency budget). */
  plan(e: ProfileEntry): PlannedReplica;
  /** Replicas that must keep running (the function's minimum). */
  minReplicas?: number;
}

export interface VerticalStep {
  /** Running replicas that stay, in their (new) configurations. */
  kept: PlannedReplica[];
  /** Copies of the running replicas that were resized (same id and device, `resizedFrom` set). */
  resized: PlacedReplica[];
  /** Running replicas that stop. */
  removed: PlacedReplica[];
  explanation: VerticalExplanation;
}

interface Group {
  deviceId: string;
  config: ReplicaConfig;
  /** Requests/s of one replica. */
  rps: number;
  replicas: PlacedReplica[];
}

function groupsOf(running: readonly PlacedReplica[]): Group[] {
  const by = new Map<string, Group>();
  for (const r of running) {
    const k = `${r.deviceId}|${configKey(r.config)}`;
    const g = by.get(k);
    if (g) g.replicas.push(r);
    else by.set(k, { deviceId: r.deviceId, config: r.config, rps: r.capacityRps, replicas: [r] });
  }
  for (const g of by.values()) g.replicas.sort((a, b) => a.id.localeCompare(b.id, undefined, { numeric: true }));
  return [...by.values()].sort(
    (a, b) => a.deviceId.localeCompare(b.deviceId) || configKey(a.config).localeCompare(configKey(b.config)),
  );
}

const efficiency = (g: Group) => g.rps / Math.max(EPS, configArea(g.config));
const total = (gs: readonly Group[]) => gs.reduce((s, g) => s + g.rps * g.replicas.length, 0);

/**
 * The operating point of a replica of `config`'s partition and largest batch at `quota`: the largest SLO-feasible batch
 * ≤ it.
 */
export function operatingPoint(
  entries: readonly ProfileEntry[],
  config: ReplicaConfig,
  quota: number,
  sloMs: number,
): ProfileEntry | undefined {
  let best: ProfileEntry | undefined;
  for (const e of entries) {
    if (
      e.partitionPercent !== config.partitionPercent ||
      Math.abs(e.quota - quota) > EPS ||
      e.batch > config.batch ||
      !saturatedFeasible(e, sloMs)
    )
      continue;
    if (!best || e.batch > best.batch || (e.batch === best.batch && e.rps > best.rps)) best = e;
  }
  return best;
}

/** The quotas the profile has for a partition, ascending. */
function quotasOf(entries: readonly ProfileEntry[], partitionPercent: number): number[] {
  const qs = new Set<number>();
  for (const e of entries) if (e.partitionPercent === partitionPercent) qs.add(e.quota);
  return [...qs].sort((a, b) => a - b);
}

interface Option {
  quota: number;
  e: ProfileEntry;
}

function options(entries: readonly ProfileEntry[], g: Group, sloMs: number, dir: 'up' | 'down'): Option[] {
  const out: Option[] = [];
  for (const q of quotasOf(entries, g.config.partitionPercent)) {
    if (dir === 'up' ? q <= g.config.quota + EPS : q >= g.config.quota - EPS) continue;
    const e = operatingPoint(entries, g.config, q, sloMs);
    if (!e) continue;
    if (dir === 'up' ? e.rps > g.rps + EPS : e.rps < g.rps - EPS) out.push({ quota: q, e });
  }
  return out;
}

/** Tries to move group `g` to `o`; on success updates the group and the step. */
function tryResize(g: Group, o: Option, input: VerticalInput, step: Mutable): string | undefined {
  const planned = input.plan(o.e);
  const config: ReplicaConfig = { partitionPercent: g.config.partitionPercent, quota: o.quota, batch: g.config.batch };
  const copies = g.replicas.map((r): PlacedReplica => ({
    ...r,
    config,
    capacityRps: o.e.rps,
    ...(planned.latency ? { latency: planned.latency } : {}),
    resizedFrom: r.resizedFrom ?? r.config,
  }));
  const why = input.room.resize(g.replicas, copies);
  if (why) return why;
  const prev = step.notes.get(g);
  step.notes.set(g, {
    deviceId: g.deviceId,
    replicaIds: g.replicas.map((r) => r.id),
    from: prev?.from ?? g.config,
    to: config,
    fromRps: prev?.fromRps ?? g.rps,
    toRps: o.e.rps,
  });
  for (const c of copies) step.copies.set(c.id, c);
  g.config = config;
  g.rps = o.e.rps;
  g.replicas = copies;
  return undefined;
}

interface Mutable {
  notes: Map<Group, ResizeNote>;
  copies: Map<string, PlacedReplica>;
  blocked: BlockedResize[];
  removed: PlacedReplica[];
}

function finish(
  input: VerticalInput,
  gs: readonly Group[],
  step: Mutable,
  direction: 'up' | 'down',
  runningRps: number,
): VerticalStep {
  const kept: PlannedReplica[] = [];
  for (const g of gs) {
    const e = operatingPoint(input.entries, g.config, g.config.quota, input.sloMs);
    for (const r of g.replicas) {
      const role: PlannedReplica['role'] = e && e.batch === g.config.batch ? 'saturated' : 'residual';
      kept.push({ config: { ...g.config }, capacityRps: g.rps, role, ...(r.latency ? { latency: r.latency } : {}) });
    }
  }
  const resizedRps = total(gs);
  return {
    kept,
    resized: [...step.copies.values()],
    removed: step.removed,
    explanation: {
      direction,
      runningRps,
      resizedRps,
      resized: [...step.notes.values()].filter((n) => configKey(n.from) !== configKey(n.to)),
      blocked: step.blocked,
      removed: step.removed.map((r) => r.id),
      restRps: direction === 'up' ? Math.max(0, input.demandRps - resizedRps) : 0,
      added: 0,
    },
  };
}

/** The best requests/s per unit of area a group reaches at a larger quota (0 when it cannot grow). */
function growth(entries: readonly ProfileEntry[], g: Group, sloMs: number): number {
  let best = 0;
  for (const o of options(entries, g, sloMs, 'up'))
    best = Math.max(best, o.e.rps / Math.max(EPS, configArea({ ...g.config, quota: o.quota })));
  return best;
}

/** Demand above the running capacity: raise the quotas of running groups the devices have room for. */
export function raiseQuotas(input: VerticalInput): VerticalStep {
  const gs = groupsOf(input.running);
  const runningRps = total(gs);
  const step: Mutable = { notes: new Map(), copies: new Map(), blocked: [], removed: [] };
  let cap = runningRps;
  const grows = new Map(gs.map((g) => [g, growth(input.entries, g, input.sloMs)]));
  const order = gs.filter((g) => grows.get(g)! > 0).sort((a, b) => grows.get(b)! - grows.get(a)! || b.rps - a.rps);
  for (const g of order) {
    const need = input.demandRps - cap;
    if (need <= EPS) break;
    const opts = options(input.entries, g, input.sloMs, 'up');
    if (opts.length === 0) continue;
    const n = g.replicas.length;
    const covering = opts.filter((o) => n * (o.e.rps - g.rps) >= need - EPS);
    // The smallest quota that covers what is missing; failing that (or if the device cannot take
    // it), the largest one the device can take.
    const tries = [...covering.slice(0, 1), ...opts.filter((o) => !covering.includes(o)).reverse()];
    const before = g.rps;
    for (const o of tries) {
      const why = tryResize(g, o, input, step);
      if (!why) break;
      if (o === tries[0])
        step.blocked.push({ deviceId: g.deviceId, replicaIds: g.replicas.map((r) => r.id), quota: o.quota, why });
    }
    cap += n * (g.rps - before);
  }
  return finish(input, gs, step, 'up', runningRps);
}

/** Demand well below the running capacity: stop replicas surplus as a whole, then lower quotas for the rest. */
export function lowerQuotas(input: VerticalInput): VerticalStep {
  let gs = groupsOf(input.running);
  const runningRps = total(gs);
  const step: Mutable = { notes: new Map(), copies: new Map(), blocked: [], removed: [] };
  const D = input.demandRps;
  let cap = runningRps;
  // 1. Whole surplus replicas stop, least efficient first, as long as the others cover D (and the minimum stays).
  for (let n = input.running.length; n > (input.minReplicas ?? 0); n--) {
    const g = gs
      .filter((x) => cap - x.rps >= D - EPS)
      .sort(
        (a, b) =>
          input.room.area(a.deviceId) - input.room.area(b.deviceId) || efficiency(a) - efficiency(b) || a.rps - b.rps,
      )[0];
    if (!g) break;
    const r = g.replicas.pop()!;
    input.room.remove([r]);
    step.removed.push(r);
    cap -= g.rps;
    if (g.replicas.length === 0) gs = gs.filter((x) => x !== g);
  }
  // 2. Lower quotas, least efficient groups first, keeping capacity ≥ D.
  for (const g of [...gs].sort(
    (a, b) => efficiency(a) - efficiency(b) || configArea(b.config) - configArea(a.config),
  )) {
    const n = g.replicas.length;
    const fits = options(input.entries, g, input.sloMs, 'down').filter((o) => cap - n * (g.rps - o.e.rps) >= D - EPS);
    const before = g.rps;
    for (const o of fits) {
      const why = tryResize(g, o, input, step);
      if (!why) break;
      if (o === fits[0])
        step.blocked.push({ deviceId: g.deviceId, replicaIds: g.replicas.map((r) => r.id), quota: o.quota, why });
    }
    cap -= n * (before - g.rps);
  }
  return finish(input, gs, step, 'down', runningRps);
}

/** New replicas in a shape later rounds can resize without a restart (see the file's header). */
export interface GrowableCover {
  replicas: PlannedReplica[];
  /** Replicas of the efficient configuration. */
  full: number;
  /** The remainder's replica: its configuration (E's partition and batch) and operating point. */
  tail?: { config: ReplicaConfig; e: ProfileEntry; rateRps: number };
  /** The bounds left part of the demand uncovered. */
  capped: boolean;
}

export function growableCover(
  efficient: ProfileEntry,
  restRps: number,
  entries: readonly ProfileEntry[],
  sloMs: number,
  maxReplicas: number,
  plan: (e: ProfileEntry) => PlannedReplica,
): GrowableCover {
  const full = Math.min(maxReplicas, Math.floor(restRps / efficient.rps + EPS));
  const replicas = Array.from({ length: full }, () => plan(efficient));
  const left = restRps - full * efficient.rps;
  if (left <= EPS) return { replicas, full, capped: false };
  if (full >= maxReplicas) return { replicas, full, capped: true };
  for (const q of quotasOf(entries, efficient.partitionPercent)) {
    const e = operatingPoint(entries, efficient, q, sloMs);
    if (!e || e.rps < left - EPS) continue;
    const config: ReplicaConfig = { partitionPercent: efficient.partitionPercent, quota: q, batch: efficient.batch };
    const whole = configKey(config) === configKey(efficient);
    replicas.push({ ...plan(e), config, role: whole ? 'saturated' : 'residual' });
    return { replicas, full, ...(whole ? {} : { tail: { config, e, rateRps: left } }), capped: false };
  }
  return { replicas, full, capped: true };
}
