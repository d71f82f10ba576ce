/**
 * SLO-aware replica planning for one function (pure: demand, profile, previous state and the time
 * in; the plan, its explanation and the next state out).
 * Plan = ⌊demand / rps_eff⌋ replicas of the most efficient feasible configuration + one residual
 * replica of the smallest-area configuration that covers the remainder within the SLO, kept within
 * [min, max]. Scale-up waits `cooldownUpMs` after the previous scale-up; scale-down needs demand
 * below (1 − hysteresis) × current capacity and `cooldownDownMs` since the last change.
 */
import { PlatformError } from '../core/errors.ts';
import { configArea, type ProfileEntry, type ReplicaConfig } from '../core/profiles/profile-table.ts';
import { efficiency, residualFeasible, saturatedCandidates, saturatedFeasible } from './feasibility.ts';
import type { FunctionSpec, PlannedReplica } from './types.ts';

export interface PlannerOptions {
  cooldownUpMs: number;
  cooldownDownMs: number;
  /** Fraction of capacity demand must fall below before scaling down. */
  hysteresis: number;
  /** Configuration for a function that has no profile yet (whole device: always safe). */
  defaultConfig: ReplicaConfig;
  /** Capacity assumed for the default configuration until a profile exists, requests/s. */
  defaultRps: number;
  /** How many rejected alternatives an explanation keeps. */
  maxAlternatives: number;
  /** Fraction of the SLO kept out of the feasibility check, for queueing variance and token waits. */
  sloMargin: number;
  /** Longest token the device scheduler grants while others wait, ms (bounds how long a replica blocks others). */
  tokenMs: number;
  /**
   * A full-time (quota 1) configuration within this fraction of the best efficiency is preferred:
   * it packs beside others as a plain partition, while the unused time of a quota < 1 replica is
   * lost unless a time-sharing partner fits (latency permitting).
   */
  fullTimePreference: number;
}

export const DEFAULT_PLANNER_OPTIONS: PlannerOptions = {
  cooldownUpMs: 0,
  cooldownDownMs: 30_000,
  hysteresis: 0.15,
  defaultConfig: { partitionPercent: 100, quota: 1, batch: 1 },
  defaultRps: 1,
  maxAlternatives: 6,
  sloMargin: 0.1,
  tokenMs: 20,
  fullTimePreference: 0.1,
};

export interface FunctionPlanState {
  replicas: PlannedReplica[];
  lastUpMs: number;
  lastDownMs: number;
}

export interface ConfigNote extends ReplicaConfig {
  rps: number;
  batchLatencyMs: number;
  efficiency: number;
  source: string;
}

export interface Alternative extends ConfigNote {
  rejected: string;
}

export interface PlanExplanation {
  function: string;
  model: string;
  demandRps: number;
  sloMs: number;
  efficient?: ConfigNote & { replicas: number };
  residual?: ConfigNote & { residualRps: number };
  alternatives: Alternative[];
  /** Configurations whose batch 1 already misses the SLO. */
  infeasible: number;
  notes: string[];
}

export type PlanAction = 'initial' | 'scale-up' | 'scale-down' | 'idle' | 'hold';

export interface FunctionPlan {
  function: string;
  action: PlanAction;
  demandRps: number;
  replicas: PlannedReplica[];
  capacityRps: number;
  needsProfiling: boolean;
  sloUnachievable: boolean;
  capped: boolean;
  explanation: PlanExplanation;
  state: FunctionPlanState;
}

export interface PlanInput {
  spec: FunctionSpec;
  demandRps: number;
  entries: readonly ProfileEntry[];
  prev?: FunctionPlanState;
  nowMs: number;
  options?: Partial<PlannerOptions>;
}

function note(e: ProfileEntry): ConfigNote {
  return { partitionPercent: e.partitionPercent, quota: e.quota, batch: e.batch, rps: e.rps, batchLatencyMs: e.latencyMs.p50, efficiency: efficiency(e), source: e.source };
}

/**
 * A planned replica of a profile entry. Its latency budget: a request waits for its batch to fill,
 * ((b − 1) / rate), then runs for the full-share batch time ℓ; what is left of the SLO is the slack
 * that waiting for other replicas' tokens may use; it holds the device at most one token.
 * `rateRps` is the rate it will see (its capacity when saturated, the remainder when residual).
 */
export function plannedReplica(e: ProfileEntry, role: PlannedReplica['role'], sloMs: number, o: Pick<PlannerOptions, 'tokenMs'> = DEFAULT_PLANNER_OPTIONS, rateRps = e.rps): PlannedReplica {
  const serviceMs = e.serviceMs ?? e.latencyMs.p50 * e.quota;
  const fillMs = rateRps > 0 ? ((e.batch - 1) / rateRps) * 1000 : 0;
  return {
    config: { partitionPercent: e.partitionPercent, quota: e.quota, batch: e.batch },
    capacityRps: e.rps,
    role,
    latency: { slackMs: Math.max(0, sloMs - fillMs - serviceMs), holdMs: Math.min(o.tokenMs, serviceMs) },
  };
}

const capacity = (rs: PlannedReplica[]) => rs.reduce((s, r) => s + r.capacityRps, 0);
const area = (rs: PlannedReplica[]) => rs.reduce((s, r) => s + configArea(r.config), 0);

interface Ideal {
  replicas: PlannedReplica[];
  explanation: PlanExplanation;
  needsProfiling: boolean;
  sloUnachievable: boolean;
  capped: boolean;
}

/** The plan for `demand` with no memory of the past. */
export function idealPlan(spec: FunctionSpec, demandRps: number, entries: readonly ProfileEntry[], o: PlannerOptions): Ideal {
  const ex: PlanExplanation = { function: spec.name, model: spec.model, demandRps, sloMs: spec.sloMs, alternatives: [], infeasible: 0, notes: [] };
  let replicas: PlannedReplica[] = [];
  let needsProfiling = false;
  let sloUnachievable = false;
  if (entries.length === 0) {
    needsProfiling = true;
    const n = demandRps > 0 ? 1 : 0;
    replicas = Array.from({ length: n }, () => ({ config: { ...o.defaultConfig }, capacityRps: o.defaultRps, role: 'default' as const, latency: { slackMs: 0, holdMs: o.tokenMs } }));
    ex.notes.push(`no profile for ${spec.model} on ${spec.deviceClass}: default configuration (partition ${o.defaultConfig.partitionPercent} %, quota ${o.defaultConfig.quota}); queue a profiling job`);
  } else {
    const slo = spec.sloMs * (1 - o.sloMargin);
    const { candidates, infeasible } = saturatedCandidates(entries, slo);
    ex.infeasible = infeasible.length;
    for (const e of infeasible.slice(0, 2)) ex.alternatives.push({ ...note(e), rejected: `misses SLO: 2 × ${e.latencyMs.p50.toFixed(1)} ms > ${slo.toFixed(1)} ms (SLO less ${o.sloMargin * 100} % margin) even at batch 1` });
    let eff = candidates[0];
    const fullTime = eff && eff.quota < 1 ? candidates.find((e) => e.quota === 1 && efficiency(e) >= (1 - o.fullTimePreference) * efficiency(eff!)) : undefined;
    if (fullTime) {
      ex.notes.push(`full-time ${fullTime.partitionPercent} % preferred to quota ${eff!.quota} (${efficiency(fullTime).toFixed(0)} vs ${efficiency(eff!).toFixed(0)} rps per device: within ${o.fullTimePreference * 100} %, packs without a time-sharing partner)`);
      eff = fullTime;
    }
    if (!eff) {
      sloUnachievable = true;
      eff = entries.reduce((a, b) => (b.latencyMs.p50 < a.latencyMs.p50 ? b : a));
      ex.notes.push(`no configuration meets the ${spec.sloMs} ms SLO; using the fastest (batch latency ${eff.latencyMs.p50.toFixed(1)} ms)`);
    }
    for (const e of candidates.filter((c) => c !== eff).slice(0, o.maxAlternatives - ex.alternatives.length)) {
      ex.alternatives.push({ ...note(e), rejected: `less efficient: ${efficiency(e).toFixed(1)} vs ${efficiency(eff).toFixed(1)} rps per unit of quota × partition` });
    }
    if (demandRps > 0) {
      const n = sloUnachievable ? Math.ceil(demandRps / eff.rps) : Math.floor(demandRps / eff.rps);
      for (let i = 0; i < n; i++) replicas.push(plannedReplica(eff, 'saturated', spec.sloMs, o));
      ex.efficient = { ...note(eff), replicas: n };
      const rest = demandRps - n * eff.rps;
      if (rest > 1e-9) {
        let res: ProfileEntry | undefined;
        for (const e of entries) {
          // Our replicas batch what is queued without waiting for a full batch, so a configuration
          // feasible when saturated is feasible at any lower rate; larger batches pass the Nexus check.
          if (e.rps < rest || !(saturatedFeasible(e, slo) || residualFeasible(e, slo, rest))) continue;
          if (!res || configArea(e) < configArea(res) || (configArea(e) === configArea(res) && e.rps > res.rps)) res = e;
        }
        res ??= eff;
        replicas.push(plannedReplica(res, 'residual', spec.sloMs, o, res === eff ? res.rps : rest));
        ex.residual = { ...note(res), residualRps: rest };
      }
    }
  }
  let capped = false;
  if (replicas.length > spec.maxReplicas) {
    capped = true;
    ex.notes.push(`capped at max ${spec.maxReplicas} replicas (wanted ${replicas.length}); capacity ${capacity(replicas.slice(0, spec.maxReplicas)).toFixed(1)} rps < demand`);
    replicas = replicas.slice(0, spec.maxReplicas);
  }
  if (replicas.length < spec.minReplicas) {
    const fill = minimumReplica(entries, spec, o);
    ex.notes.push(`raised to min ${spec.minReplicas} replicas`);
    while (replicas.length < spec.minReplicas) replicas.push({ ...fill, config: { ...fill.config } });
  }
  return { replicas, explanation: ex, needsProfiling, sloUnachievable, capped };
}

/** The replica kept when a function is idle: the smallest feasible configuration. */
function minimumReplica(entries: readonly ProfileEntry[], spec: FunctionSpec, o: PlannerOptions): PlannedReplica {
  const { candidates } = saturatedCandidates(entries, spec.sloMs * (1 - o.sloMargin));
  if (candidates.length === 0) return { config: { ...o.defaultConfig }, capacityRps: entries.length ? entries[0]!.rps : o.defaultRps, role: 'minimum', latency: { slackMs: 0, holdMs: o.tokenMs } };
  const small = candidates.reduce((a, b) => (configArea(b) < configArea(a) || (configArea(b) === configArea(a) && b.rps > a.rps) ? b : a));
  return plannedReplica(small, 'minimum', spec.sloMs, o);
}

export function planFunction(input: PlanInput): FunctionPlan {
  const o = { ...DEFAULT_PLANNER_OPTIONS, ...input.options };
  const { spec, demandRps, entries, prev, nowMs } = input;
  if (!(demandRps >= 0)) throw new PlatformError('bad_request', `demand of ${spec.name} must be ≥ 0 requests/s, got ${demandRps}`);
  if (!(spec.sloMs > 0)) throw new PlatformError('bad_request', `SLO of ${spec.name} must be > 0 ms, got ${spec.sloMs}`);
  if (!(spec.minReplicas >= 0 && spec.maxReplicas >= spec.minReplicas)) throw new PlatformError('bad_request', `replica bounds of ${spec.name} must satisfy 0 ≤ min ≤ max, got ${spec.minReplicas}..${spec.maxReplicas}`);
  const ideal = idealPlan(spec, demandRps, entries, o);
  const done = (action: PlanAction, replicas: PlannedReplica[], state: FunctionPlanState, why?: string): FunctionPlan => {
    if (why) ideal.explanation.notes.push(why);
    return { function: spec.name, action, demandRps, replicas, capacityRps: capacity(replicas), needsProfiling: ideal.needsProfiling, sloUnachievable: ideal.sloUnachievable, capped: ideal.capped, explanation: ideal.explanation, state };
  };
  if (!prev) return done('initial', ideal.replicas, { replicas: ideal.replicas, lastUpMs: nowMs, lastDownMs: nowMs });
  const cur = prev.replicas;
  const curCap = capacity(cur);
  const sinceChange = nowMs - Math.max(prev.lastUpMs, prev.lastDownMs);
  if (demandRps === 0) {
    if (cur.length === ideal.replicas.length && area(cur) <= area(ideal.replicas) + 1e-12) return done('hold', cur, prev, 'idle, already at the minimum');
    if (sinceChange < o.cooldownDownMs) return done('hold', cur, prev, `idle; scale-down cooldown (${Math.ceil((o.cooldownDownMs - sinceChange) / 1000)} s left)`);
    return done('idle', ideal.replicas, { replicas: ideal.replicas, lastUpMs: prev.lastUpMs, lastDownMs: nowMs }, `idle: back to the minimum (${ideal.replicas.length})`);
  }
  const belowMin = cur.length < spec.minReplicas;
  if (demandRps > curCap || belowMin) {
    if (nowMs - prev.lastUpMs < o.cooldownUpMs && !belowMin) return done('hold', cur, prev, `demand ${demandRps.toFixed(1)} > capacity ${curCap.toFixed(1)} rps but in scale-up cooldown`);
    if (capacity(ideal.replicas) <= curCap && !belowMin) return done('hold', cur, prev, 'already at the most capacity the bounds allow');
    return done('scale-up', ideal.replicas, { replicas: ideal.replicas, lastUpMs: nowMs, lastDownMs: prev.lastDownMs }, `demand ${demandRps.toFixed(1)} > capacity ${curCap.toFixed(1)} rps`);
  }
  if (demandRps < curCap * (1 - o.hysteresis) && area(ideal.replicas) < area(cur) - 1e-12) {
    if (sinceChange < o.cooldownDownMs) return done('hold', cur, prev, `over-provisioned but in scale-down cooldown (${Math.ceil((o.cooldownDownMs - sinceChange) / 1000)} s left)`);
    return done('scale-down', ideal.replicas, { replicas: ideal.replicas, lastUpMs: prev.lastUpMs, lastDownMs: nowMs }, `demand ${demandRps.toFixed(1)} < ${(1 - o.hysteresis).toFixed(2)} × capacity ${curCap.toFixed(1)} rps`);
  }
  return done('hold', cur, prev, `capacity ${curCap.toFixed(1)} rps covers demand ${demandRps.toFixed(1)} within the hysteresis band`);
}
