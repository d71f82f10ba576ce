/**
 * SLO-aware replica planning for one function (pure: demand, profile, previous state and the time
 * in; the plan, its explanation and the next state out).
 * Plan = ⌊demand / rps_eff⌋ replicas of the most cost-efficient feasible configuration + the
 * cheapest set of feasible replicas that covers the remainder (cover.ts): one residual, or several
 * smaller replicas when together they take less area (cost = area; a quota < 1 weighed by
 * 1 / (1 − fullTimePreference), or its whole band when its slack is too short to time-share).
 * Kept within [min, max]. Scale-up waits `cooldownUpMs` after the previous scale-up; scale-down
 * needs demand below (1 − hysteresis) × current capacity and `cooldownDownMs` since the last change.
 * With `vertical` (and the running replicas and their devices' room given), a change resizes the
 * quotas of running replicas first (vertical.ts) and adds replicas only for the demand left, or
 * removes them only for what lower quotas cannot absorb.
 */
import { PlatformError } from '../core/errors.ts';
import { configArea, configKey, type ProfileEntry, type ReplicaConfig } from '../core/profiles/profile-table.ts';
import { cheapestCover, coverMenu, type Cover, type CoverMenu } from './cover.ts';
import type { DeviceRoom } from './device-room.ts';
import { efficiency, residualFeasible, saturatedCandidates, saturatedFeasible } from './feasibility.ts';
import type { FunctionSpec, PlacedReplica, PlannedReplica } from './types.ts';
import { growableCover, lowerQuotas, raiseQuotas, type VerticalExplanation, type VerticalStep } from './vertical.ts';

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
  /** Search nodes the cheapest-cover search (cover.ts) may visit per function before it settles. */
  coverBudget: number;
  /**
   * A quota < 1 configuration with less slack than this (ms) is costed as its whole band: few
   * partners hold the device briefly enough to time-share with it (see `coverCost`).
   */
  shareableSlackMs: number;
  /**
   * How many of the ⌊demand / rps_eff⌋ efficient replicas the cover search may trade for others.
   * 0: the efficient block stays and only what it leaves (< rps_eff) is covered at least cost, so a
   * re-plan changes the tail only. More saves a little area on a static plan but re-mixes the whole
   * plan as demand moves: in the simulator the extra cold starts cost SLO attainment (README).
   */
  coverTail: number;
  /**
   * Vertical before horizontal: when demand moves, change the quota of running replicas (live, no
   * restart) before adding or removing replicas (vertical.ts). Needs `PlanInput.running`; without
   * it, or off, every change re-plans the replica set (horizontal only).
   */
  vertical: boolean;
  /**
   * Vertical scale-down: when lower quotas would still leave more than (1 + reshapeArea) × the area
   * of the plan for the demand alone (replicas whose partition or batch no longer suits the demand),
   * re-plan the replica set instead: a partition change costs a restart, worth it for that much area.
   */
  reshapeArea: number;
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
  coverBudget: 400,
  shareableSlackMs: 10,
  coverTail: 0,
  vertical: true,
  reshapeArea: 0.25,
};

/**
 * What a replica costs the cover search: its area, and for quota < 1 its area / (1 − fullTimePreference)
 * (the same trade-off as the choice of the efficient configuration: the idle time of a quota < 1
 * replica is lost unless a time-sharing partner fits beside it). A quota < 1 replica whose slack is
 * below `shareableSlackMs` can time-share only with replicas that hold the device for less than
 * that, so its idle time is as good as lost: it is charged its whole band (partition × full time).
 */
export function coverCost(e: ProfileEntry, sloMs: number, o: PlannerOptions): number {
  if (e.quota >= 1) return configArea(e);
  if (plannedReplica(e, 'saturated', sloMs, o).latency!.slackMs < o.shareableSlackMs) return e.partitionPercent / 100;
  return configArea(e) / (1 - o.fullTimePreference);
}

const menus = new WeakMap<readonly ProfileEntry[], Map<string, CoverMenu | undefined>>();

/** The cover menu of a profile at an SLO (memoised per profile list, SLO and the options it depends on). */
function menuFor(
  entries: readonly ProfileEntry[],
  candidates: readonly ProfileEntry[],
  sloMs: number,
  o: PlannerOptions,
): CoverMenu | undefined {
  let bySlo = menus.get(entries);
  if (!bySlo) menus.set(entries, (bySlo = new Map()));
  const key = `${sloMs}|${o.sloMargin}|${o.fullTimePreference}|${o.tokenMs}|${o.shareableSlackMs}`;
  if (!bySlo.has(key))
    bySlo.set(
      key,
      coverMenu(candidates, entries, sloMs * (1 - o.sloMargin), (e) => coverCost(e, sloMs, o)),
    );
  return bySlo.get(key);
}

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
  /** Other saturated configurations in the plan, when mixing them covers the demand for less area. */
  mix?: (ConfigNote & { replicas: number })[];
  residual?: ConfigNote & { residualRps: number };
  alternatives: Alternative[];
  /** Configurations whose batch 1 already misses the SLO. */
  infeasible: number;
  notes: string[];
  /** Present when the plan came from resizing running replicas (vertical before horizontal). */
  vertical?: VerticalExplanation;
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
  /** The function's running replicas and what their devices can take: enables the vertical step. */
  running?: RunningReplicas;
}

/** Replicas the vertical step adds for the demand left, and how to explain them. */
interface Added {
  replicas: PlannedReplica[];
  capped: boolean;
  efficient?: PlanExplanation['efficient'];
  mix?: PlanExplanation['mix'];
  residual?: PlanExplanation['residual'];
  notes: string[];
}

export interface RunningReplicas {
  replicas: readonly PlacedReplica[];
  room: DeviceRoom;
}

function note(e: ProfileEntry): ConfigNote {
  return {
    partitionPercent: e.partitionPercent,
    quota: e.quota,
    batch: e.batch,
    rps: e.rps,
    batchLatencyMs: e.latencyMs.p50,
    efficiency: efficiency(e),
    source: e.source,
  };
}

/**
 * A planned replica of a profile entry. Its latency budget: a request waits for its batch to fill,
 * ((b − 1) / rate), then runs for the full-share batch time ℓ; what is left of the SLO is the slack
 * that waiting for other replicas' tokens may use; it holds the device at most one token.
 * `rateRps` is the rate it will see (its capacity when saturated, the remainder when residual).
 */
export function plannedReplica(
  e: ProfileEntry,
  role: PlannedReplica['role'],
  sloMs: number,
  o: Pick<PlannerOptions, 'tokenMs'> = DEFAULT_PLANNER_OPTIONS,
  rateRps = e.rps,
): PlannedReplica {
  const serviceMs = e.serviceMs ?? e.latencyMs.p50 * e.quota;
  const fillMs = rateRps > 0 ? ((e.batch - 1) / rateRps) * 1000 : 0;
  return {
    config: { partitionPercent: e.partitionPercent, quota: e.quota, batch: e.batch },
    capacityRps: e.rps,
    role,
    latency: { slackMs: Math.max(0, sloMs - fillMs - serviceMs), holdMs: Math.min(o.tokenMs, serviceMs) },
  };
}

/**
 * The rate that sets a residual's batch fill time. A saturated-feasible configuration batches what
 * is queued (it never waits for a batch to fill), so below capacity a request waits no longer than
 * at capacity: fill as if saturated. A configuration admitted only by the Nexus check at the rate
 * left to it waits for its batch at that rate.
 */
function fillRate(e: ProfileEntry, sloMs: number, restRps: number): number {
  return saturatedFeasible(e, sloMs) ? e.rps : restRps;
}

const capacity = (rs: PlannedReplica[]) => rs.reduce((s, r) => s + r.capacityRps, 0);
const area = (rs: PlannedReplica[]) => rs.reduce((s, r) => s + configArea(r.config), 0);

interface Ideal {
  replicas: PlannedReplica[];
  explanation: PlanExplanation;
  needsProfiling: boolean;
  sloUnachievable: boolean;
  capped: boolean;
  /** The most cost-efficient SLO-feasible configuration (absent without a profile or a feasible one). */
  efficient?: ProfileEntry;
}

/**
 * ⌊demand / rps_eff⌋ − coverTail replicas of the most cost-efficient configuration, and the cheapest
 * cover (cover.ts) of what they leave: a plan that grows and shrinks by its tail, so re-planning
 * as demand moves changes a few replicas rather than the whole mix.
 */
function tailCover(demandRps: number, menu: CoverMenu, maxReplicas: number, o: PlannerOptions): Cover | undefined {
  const top = menu.order[0]!;
  const fixed = Math.max(0, Math.floor(demandRps / top.rps + 1e-9) - o.coverTail);
  if (fixed > maxReplicas) return undefined;
  const tail = cheapestCover(demandRps - fixed * top.rps, menu, {
    maxReplicas: maxReplicas - fixed,
    nodeBudget: o.coverBudget,
  });
  if (!tail || fixed === 0) return tail;
  return {
    ...tail,
    saturated: [...Array.from({ length: fixed }, () => top.e), ...tail.saturated],
    cost: tail.cost + fixed * top.cost,
    area: tail.area + fixed * configArea(top.e),
    capacityRps: tail.capacityRps + fixed * top.rps,
  };
}

/** The plan for `demand` with no memory of the past. */
export function idealPlan(
  spec: FunctionSpec,
  demandRps: number,
  entries: readonly ProfileEntry[],
  o: PlannerOptions,
): Ideal {
  const ex: PlanExplanation = {
    function: spec.name,
    model: spec.model,
    demandRps,
    sloMs: spec.sloMs,
    alternatives: [],
    infeasible: 0,
    notes: [],
  };
  let replicas: PlannedReplica[] = [];
  let needsProfiling = false;
  let sloUnachievable = false;
  let efficient: ProfileEntry | undefined;
  if (entries.length === 0) {
    needsProfiling = true;
    const n = demandRps > 0 ? 1 : 0;
    replicas = Array.from({ length: n }, () => ({
      config: { ...o.defaultConfig },
      capacityRps: o.defaultRps,
      role: 'default' as const,
      latency: { slackMs: 0, holdMs: o.tokenMs },
    }));
    ex.notes.push(
      `no profile for ${spec.model} on ${spec.deviceClass}: default configuration (partition ${o.defaultConfig.partitionPercent} %, quota ${o.defaultConfig.quota}); queue a profiling job`,
    );
  } else {
    const slo = spec.sloMs * (1 - o.sloMargin);
    const { candidates, infeasible } = saturatedCandidates(entries, slo);
    ex.infeasible = infeasible.length;
    for (const e of infeasible.slice(0, 2))
      ex.alternatives.push({
        ...note(e),
        rejected: `misses SLO: 2 × ${e.latencyMs.p50.toFixed(1)} ms > ${slo.toFixed(1)} ms (SLO less ${o.sloMargin * 100} % margin) even at batch 1`,
      });
    let eff = candidates[0];
    const fullTime =
      eff && eff.quota < 1
        ? candidates.find((e) => e.quota === 1 && efficiency(e) >= (1 - o.fullTimePreference) * efficiency(eff!))
        : undefined;
    if (fullTime) {
      ex.notes.push(
        `full-time ${fullTime.partitionPercent} % preferred to quota ${eff!.quota} (${efficiency(fullTime).toFixed(0)} vs ${efficiency(eff!).toFixed(0)} rps per device: within ${o.fullTimePreference * 100} %, packs without a time-sharing partner)`,
      );
      eff = fullTime;
    }
    if (!eff) {
      sloUnachievable = true;
      eff = entries.reduce((a, b) => (b.latencyMs.p50 < a.latencyMs.p50 ? b : a));
      ex.notes.push(
        `no configuration meets the ${spec.sloMs} ms SLO; using the fastest (batch latency ${eff.latencyMs.p50.toFixed(1)} ms)`,
      );
    }
    const menu = sloUnachievable ? undefined : menuFor(entries, candidates, spec.sloMs, o);
    const top = menu?.order[0]!.e;
    if (top && top !== eff) {
      ex.notes.push(
        `partition ${top.partitionPercent} %, quota ${top.quota} is the cheapest per rps once a quota < 1 pays for its idle time (area / ${(1 - o.fullTimePreference).toFixed(2)}, or its whole band when its slack is under ${o.shareableSlackMs} ms)`,
      );
      eff = top;
    }
    if (!sloUnachievable) efficient = eff;
    for (const e of candidates.filter((c) => c !== eff).slice(0, o.maxAlternatives - ex.alternatives.length)) {
      ex.alternatives.push({
        ...note(e),
        rejected: `less efficient: ${efficiency(e).toFixed(1)} vs ${efficiency(eff).toFixed(1)} rps per unit of quota × partition`,
      });
    }
    if (demandRps > 0) {
      const cover = menu && tailCover(demandRps, menu, spec.maxReplicas, o);
      if (cover) {
        const counts = new Map<ProfileEntry, number>();
        for (const e of cover.saturated) {
          counts.set(e, (counts.get(e) ?? 0) + 1);
          replicas.push(plannedReplica(e, 'saturated', spec.sloMs, o));
        }
        ex.efficient = { ...note(eff), replicas: counts.get(eff) ?? 0 };
        const mix = [...counts].filter(([e]) => e !== eff);
        if (mix.length) ex.mix = mix.map(([e, n]) => ({ ...note(e), replicas: n }));
        const res = cover.residual; // absent when the demand is a whole number of efficient replicas
        if (res && res.rateRps >= res.entry.rps - 1e-9 && saturatedFeasible(res.entry, slo)) {
          // The demand is a whole number of this configuration's capacity: no residual.
          replicas.push(plannedReplica(res.entry, 'saturated', spec.sloMs, o));
          const same = ex.mix?.find((m) => configKey(m) === configKey(res.entry));
          if (res.entry === eff) ex.efficient.replicas++;
          else if (same) same.replicas++;
          else ex.mix = [...(ex.mix ?? []), { ...note(res.entry), replicas: 1 }];
        } else if (res) {
          replicas.push(plannedReplica(res.entry, 'residual', spec.sloMs, o, fillRate(res.entry, slo, res.rateRps)));
          ex.residual = { ...note(res.entry), residualRps: res.rateRps };
        }
        if (!cover.exhaustive)
          ex.notes.push(
            `cover search stopped after ${cover.nodes} nodes (budget); the plan is the cheapest found, not proven the cheapest`,
          );
      } else {
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
            if (!res || configArea(e) < configArea(res) || (configArea(e) === configArea(res) && e.rps > res.rps))
              res = e;
          }
          res ??= eff;
          replicas.push(plannedReplica(res, 'residual', spec.sloMs, o, fillRate(res, slo, rest)));
          ex.residual = { ...note(res), residualRps: rest };
        }
      }
    }
  }
  let capped = false;
  if (replicas.length > spec.maxReplicas) {
    capped = true;
    ex.notes.push(
      `capped at max ${spec.maxReplicas} replicas (wanted ${replicas.length}); capacity ${capacity(replicas.slice(0, spec.maxReplicas)).toFixed(1)} rps < demand`,
    );
    replicas = replicas.slice(0, spec.maxReplicas);
  }
  if (replicas.length < spec.minReplicas) {
    const fill = minimumReplica(entries, spec, o);
    ex.notes.push(`raised to min ${spec.minReplicas} replicas`);
    while (replicas.length < spec.minReplicas) replicas.push({ ...fill, config: { ...fill.config } });
  }
  return { replicas, explanation: ex, needsProfiling, sloUnachievable, capped, ...(efficient ? { efficient } : {}) };
}

/** The replica kept when a function is idle: the smallest feasible configuration. */
function minimumReplica(entries: readonly ProfileEntry[], spec: FunctionSpec, o: PlannerOptions): PlannedReplica {
  const { candidates } = saturatedCandidates(entries, spec.sloMs * (1 - o.sloMargin));
  if (candidates.length === 0)
    return {
      config: { ...o.defaultConfig },
      capacityRps: entries.length ? entries[0]!.rps : o.defaultRps,
      role: 'minimum',
      latency: { slackMs: 0, holdMs: o.tokenMs },
    };
  const small = candidates.reduce((a, b) =>
    configArea(b) < configArea(a) || (configArea(b) === configArea(a) && b.rps > a.rps) ? b : a,
  );
  return plannedReplica(small, 'minimum', spec.sloMs, o);
}

export function planFunction(input: PlanInput): FunctionPlan {
  const o = { ...DEFAULT_PLANNER_OPTIONS, ...input.options };
  const { spec, demandRps, entries, prev, nowMs } = input;
  if (!(demandRps >= 0))
    throw new PlatformError('bad_request', `demand of ${spec.name} must be ≥ 0 requests/s, got ${demandRps}`);
  if (!(spec.sloMs > 0))
    throw new PlatformError('bad_request', `SLO of ${spec.name} must be > 0 ms, got ${spec.sloMs}`);
  if (!(spec.minReplicas >= 0 && spec.maxReplicas >= spec.minReplicas))
    throw new PlatformError(
      'bad_request',
      `replica bounds of ${spec.name} must satisfy 0 ≤ min ≤ max, got ${spec.minReplicas}..${spec.maxReplicas}`,
    );
  const ideal = idealPlan(spec, demandRps, entries, o);
  const done = (
    action: PlanAction,
    replicas: PlannedReplica[],
    state: FunctionPlanState,
    why?: string,
    capped = ideal.capped,
  ): FunctionPlan => {
    if (why) ideal.explanation.notes.push(why);
    return {
      function: spec.name,
      action,
      demandRps,
      replicas,
      capacityRps: capacity(replicas),
      needsProfiling: ideal.needsProfiling,
      sloUnachievable: ideal.sloUnachievable,
      capped,
      explanation: ideal.explanation,
      state,
    };
  };
  if (!prev) return done('initial', ideal.replicas, { replicas: ideal.replicas, lastUpMs: nowMs, lastDownMs: nowMs });
  const cur = prev.replicas;
  const curCap = capacity(cur);
  const sinceChange = nowMs - Math.max(prev.lastUpMs, prev.lastDownMs);
  // A function without a profile has nothing to resize (its default replica's capacity is a guess);
  // once its profile exists, the first change re-plans the whole set away from the default.
  const running =
    o.vertical && input.running && !ideal.needsProfiling && !cur.some((r) => r.role === 'default')
      ? input.running
      : undefined;
  if (demandRps === 0) {
    if (cur.length === ideal.replicas.length && area(cur) <= area(ideal.replicas) + 1e-12)
      return done('hold', cur, prev, 'idle, already at the minimum');
    if (sinceChange < o.cooldownDownMs)
      return done(
        'hold',
        cur,
        prev,
        `idle; scale-down cooldown (${Math.ceil((o.cooldownDownMs - sinceChange) / 1000)} s left)`,
      );
    return done(
      'idle',
      ideal.replicas,
      { replicas: ideal.replicas, lastUpMs: prev.lastUpMs, lastDownMs: nowMs },
      `idle: back to the minimum (${ideal.replicas.length})`,
    );
  }
  const belowMin = cur.length < spec.minReplicas;
  if (demandRps > curCap || belowMin) {
    if (nowMs - prev.lastUpMs < o.cooldownUpMs && !belowMin)
      return done(
        'hold',
        cur,
        prev,
        `demand ${demandRps.toFixed(1)} > capacity ${curCap.toFixed(1)} rps but in scale-up cooldown`,
      );
    if (running && !belowMin) return verticalUp(running);
    if (capacity(ideal.replicas) <= curCap && !belowMin)
      return done('hold', cur, prev, 'already at the most capacity the bounds allow');
    return done(
      'scale-up',
      ideal.replicas,
      { replicas: ideal.replicas, lastUpMs: nowMs, lastDownMs: prev.lastDownMs },
      `demand ${demandRps.toFixed(1)} > capacity ${curCap.toFixed(1)} rps`,
    );
  }
  if (demandRps < curCap * (1 - o.hysteresis) && (running || area(ideal.replicas) < area(cur) - 1e-12)) {
    if (sinceChange < o.cooldownDownMs)
      return done(
        'hold',
        cur,
        prev,
        `over-provisioned but in scale-down cooldown (${Math.ceil((o.cooldownDownMs - sinceChange) / 1000)} s left)`,
      );
    if (running && !reshape(running)) return verticalDown(running);
    return done(
      'scale-down',
      ideal.replicas,
      { replicas: ideal.replicas, lastUpMs: prev.lastUpMs, lastDownMs: nowMs },
      `demand ${demandRps.toFixed(1)} < ${(1 - o.hysteresis).toFixed(2)} × capacity ${curCap.toFixed(1)} rps`,
    );
  }
  return done(
    'hold',
    cur,
    prev,
    `capacity ${curCap.toFixed(1)} rps covers demand ${demandRps.toFixed(1)} within the hysteresis band`,
  );

  /** The vertical step's input for this function. */
  function stepInput(r: RunningReplicas) {
    return {
      demandRps,
      entries,
      running: r.replicas,
      room: r.room,
      sloMs: spec.sloMs * (1 - o.sloMargin),
      plan: (e: ProfileEntry) => plannedReplica(e, 'saturated', spec.sloMs, o),
      minReplicas: spec.minReplicas,
    };
  }

  /** The plan's configuration lines describe what was added, not the ideal plan for the whole demand. */
  function describe(step: VerticalStep, added?: Added): void {
    const ex = ideal.explanation;
    delete ex.efficient;
    delete ex.mix;
    delete ex.residual;
    if (added?.efficient && added.efficient.replicas > 0) ex.efficient = added.efficient;
    if (added?.mix) ex.mix = added.mix;
    if (added?.residual) ex.residual = added.residual;
    for (const n of added?.notes ?? []) ex.notes.push(`added replicas: ${n}`);
    ex.vertical = { ...step.explanation, added: added?.replicas.length ?? 0 };
  }

  /**
   * Replicas for the demand the resized ones leave: whole efficient replicas and one of the same
   * partition and batch at a lower quota (growableCover), or, without an efficient configuration,
   * the plan for that demand alone.
   */
  function addFor(rest: number, maxReplicas: number): Added {
    const sub = idealPlan({ ...spec, minReplicas: 0, maxReplicas }, rest, entries, o);
    const E = sub.efficient;
    if (!E)
      return {
        replicas: sub.replicas,
        capped: sub.capped,
        efficient: sub.explanation.efficient,
        mix: sub.explanation.mix,
        residual: sub.explanation.residual,
        notes: sub.explanation.notes,
      };
    const g = growableCover(E, rest, entries, spec.sloMs * (1 - o.sloMargin), maxReplicas, (e) =>
      plannedReplica(e, 'saturated', spec.sloMs, o),
    );
    // No smaller quota covers the remainder (or the profile has none): nothing to grow, so the
    // cheapest cover takes it.
    if (!g.tail && g.replicas.length > g.full)
      return {
        replicas: sub.replicas,
        capped: sub.capped,
        efficient: sub.explanation.efficient,
        mix: sub.explanation.mix,
        residual: sub.explanation.residual,
        notes: sub.explanation.notes,
      };
    const tail = g.tail;
    return {
      replicas: g.replicas,
      capped: g.capped,
      ...(g.full > 0 || (g.replicas.length > 0 && !tail)
        ? { efficient: { ...note(E), replicas: g.replicas.length - (tail ? 1 : 0) } }
        : {}),
      ...(tail
        ? {
            residual: {
              ...note(tail.e),
              quota: tail.config.quota,
              batch: tail.config.batch,
              residualRps: tail.rateRps,
            },
          }
        : {}),
      notes: tail
        ? [
            `the remainder runs at partition ${tail.config.partitionPercent} %, largest batch ${tail.config.batch} (the efficient configuration's) at quota ${tail.config.quota}, where batches of up to ${tail.e.batch} meet the SLO: a later raise to quota ${E.quota} needs no restart`,
          ]
        : [],
    };
  }

  /** Demand above capacity: raise the running replicas' quotas, then add replicas for what is left. */
  function verticalUp(r: RunningReplicas): FunctionPlan {
    const step = raiseQuotas(stepInput(r));
    const rest = demandRps - step.explanation.resizedRps;
    const slots = Math.max(0, spec.maxReplicas - step.kept.length);
    const added = rest > 1e-9 && slots > 0 ? addFor(rest, slots) : undefined;
    const replicas = [...step.kept, ...(added?.replicas ?? [])];
    const capped = rest > 1e-9 && (slots === 0 || (added?.capped ?? false));
    if (capacity(replicas) <= step.explanation.runningRps + 1e-9)
      return done(
        'hold',
        cur,
        prev!,
        `demand ${demandRps.toFixed(1)} > capacity ${curCap.toFixed(1)} rps, but no running replica can take a larger quota and the bounds allow no more replicas`,
        capped,
      );
    describe(step, added);
    const raised = step.explanation.resized.length;
    const why = `demand ${demandRps.toFixed(1)} > capacity ${curCap.toFixed(1)} rps: ${raised ? `raised the quota of ${raised} group${raised === 1 ? '' : 's'} of running replicas (live, no restart) to ${step.explanation.resizedRps.toFixed(1)} rps` : 'no running replica could take a larger quota'}${added ? `; ${added.replicas.length} replica${added.replicas.length === 1 ? '' : 's'} added for the ${rest.toFixed(1)} rps left` : ''}`;
    return done('scale-up', replicas, { replicas, lastUpMs: nowMs, lastDownMs: prev!.lastDownMs }, why, capped);
  }

  /**
   * Would lowering quotas leave too much area beside the plan for the demand alone? (A dry run: the devices are not
   * changed.)
   */
  function reshape(r: RunningReplicas): boolean {
    if (!Number.isFinite(o.reshapeArea)) return false;
    const dry = lowerQuotas({
      ...stepInput(r),
      room: { resize: () => undefined, remove: () => undefined, area: (id) => r.room.area(id) },
    });
    const kept = area(dry.kept);
    const target = area(ideal.replicas);
    if (kept <= (1 + o.reshapeArea) * target + 1e-12) return false;
    ideal.explanation.notes.push(
      `lower quotas alone would keep area ${kept.toFixed(2)} > ${(1 + o.reshapeArea).toFixed(2)} × ${target.toFixed(2)} of the plan for the demand: re-planned the replica set (changed partitions restart their replicas)`,
    );
    return true;
  }

  /** Demand well below capacity: lower quotas; stop replicas only for what lower quotas cannot absorb. */
  function verticalDown(r: RunningReplicas): FunctionPlan {
    const step = lowerQuotas(stepInput(r));
    const replicas = step.kept;
    // Planned replicas that never got a device are not running; the running ones cover the demand.
    const unplaced = cur.length - r.replicas.length;
    const changed =
      step.explanation.resized.length > 0 ||
      step.removed.length > 0 ||
      (unplaced > 0 && capacity(replicas) >= demandRps - 1e-9);
    if (!changed)
      return done(
        'hold',
        cur,
        prev!,
        `demand ${demandRps.toFixed(1)} < ${(1 - o.hysteresis).toFixed(2)} × capacity ${curCap.toFixed(1)} rps, but no running replica can run at a lower quota within the SLO or stop without leaving the demand uncovered`,
      );
    describe(step);
    const lowered = step.explanation.resized.length;
    const why = `demand ${demandRps.toFixed(1)} < ${(1 - o.hysteresis).toFixed(2)} × capacity ${curCap.toFixed(1)} rps: ${lowered ? `lowered the quota of ${lowered} group${lowered === 1 ? '' : 's'} (live, no restart)` : 'no quota could go lower'}${step.removed.length ? `; stopped ${step.removed.length} replica${step.removed.length === 1 ? '' : 's'} surplus as a whole` : ''}${unplaced > 0 ? `; dropped ${unplaced} planned replica${unplaced === 1 ? '' : 's'} that never got a device` : ''}; capacity now ${capacity(replicas).toFixed(1)} rps`;
    return done('scale-down', replicas, { replicas, lastUpMs: prev!.lastUpMs, lastDownMs: nowMs }, why);
  }
}
