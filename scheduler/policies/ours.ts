/**
 * Ours: SLO-aware planning (planner.ts) + best-fit, model-sharing, consolidating placement
 * (placement.ts); with the planner's `vertical` option (default on), the quotas of running replicas
 * change first (vertical.ts), checked against what their devices can take (device-room.ts).
 */
import type { ModelFootprint } from '../../core/profiles/profile-table.ts';
import { deviceRoom, type DeviceRoom } from '../device-room.ts';
import { DEFAULT_PLANNER_OPTIONS, planFunction, type FunctionPlanState, type PlannerOptions } from '../planner.ts';
import { place, type PlacementOptions } from '../placement.ts';
import type { PlacedReplica } from '../types.ts';
import type { FunctionDecision, Policy, PolicyDecision, PolicyFactory, PolicyInput } from './policy.ts';

export interface OursOptions {
  planner?: Partial<PlannerOptions>;
  placement?: Partial<PlacementOptions>;
  /** Memory assumed for a model the profile table does not know (until it is profiled). */
  unknownFootprint?: ModelFootprint;
}

/** Larger than any calibrated model's weights + runtime (BERT-large: 1.4 GB + 1.4 GB). */
export const UNKNOWN_MODEL_FOOTPRINT: ModelFootprint = { weightsBytes: 0, replicaBytes: 4 * 1024 ** 3 };

/** A running replica without the mark of an earlier round's resize. */
function unmarked(r: PlacedReplica): PlacedReplica {
  if (!r.resizedFrom) return r;
  const { resizedFrom: _was, ...rest } = r;
  return rest;
}

/** One scheduling round: pure, state in and state out. */
export function scheduleRound(
  input: PolicyInput,
  state: ReadonlyMap<string, FunctionPlanState>,
  options: OursOptions = {},
): { decision: PolicyDecision; state: Map<string, FunctionPlanState> } {
  const known = new Set(input.profiles.models());
  const footprint = (m: string) =>
    known.has(m) ? input.profiles.footprint(m) : (options.unknownFootprint ?? UNKNOWN_MODEL_FOOTPRINT);
  const vertical = options.planner?.vertical ?? DEFAULT_PLANNER_OPTIONS.vertical;
  const current = input.current.map(unmarked);
  // Vertical: every resize and stop is checked against, and recorded in, the devices' room as it is decided.
  const resized = new Map<string, PlacedReplica>();
  const removed = new Set<string>();
  let room: DeviceRoom | undefined;
  const runningOf = new Map<string, PlacedReplica[]>();
  if (vertical) {
    const base = deviceRoom(input.devices, current, footprint);
    room = {
      resize(olds, news) {
        const why = base.resize(olds, news);
        if (!why) for (const r of news) resized.set(r.id, r);
        return why;
      },
      remove(rs) {
        base.remove(rs);
        for (const r of rs) removed.add(r.id);
      },
      area: (id) => base.area(id),
    };
    const deviceIds = new Set(input.devices.map((d) => d.id));
    for (const r of current) {
      if (!deviceIds.has(r.deviceId)) continue;
      let list = runningOf.get(r.function);
      if (!list) runningOf.set(r.function, (list = []));
      list.push(r);
    }
  }
  // Functions that may shrink go first, so those that grow see the room they free.
  const wantsMore = (name: string) => {
    const prev = state.get(name);
    return !prev || (input.demand.get(name) ?? 0) > prev.replicas.reduce((s, r) => s + r.capacityRps, 0);
  };
  const order = vertical
    ? [...input.functions].sort((a, b) => Number(wantsMore(a.name)) - Number(wantsMore(b.name)))
    : input.functions;
  const planOf = new Map<string, ReturnType<typeof planFunction>>();
  const next = new Map<string, FunctionPlanState>();
  for (const spec of order) {
    const running = room ? { replicas: runningOf.get(spec.name) ?? [], room } : undefined;
    const plan = planFunction({
      spec,
      demandRps: input.demand.get(spec.name) ?? 0,
      entries: input.profiles.entries(spec.model, spec.deviceClass),
      prev: state.get(spec.name),
      nowMs: input.nowMs,
      options: options.planner,
      ...(running ? { running } : {}),
    });
    planOf.set(spec.name, plan);
  }
  const plans = input.functions.map((spec) => {
    const plan = planOf.get(spec.name)!;
    next.set(spec.name, plan.state);
    return { spec, plan };
  });
  // Resized replicas stay where they run, in their new configuration; stopped ones leave.
  const after =
    resized.size || removed.size
      ? current.filter((r) => !removed.has(r.id)).map((r) => resized.get(r.id) ?? r)
      : current;
  const placed = place({
    devices: input.devices,
    current: after,
    desired: plans.map(({ spec, plan }) => ({ spec, replicas: plan.replicas })),
    footprint,
    options: options.placement,
  });
  const decisions = new Map<string, FunctionDecision>();
  for (const { spec, plan } of plans) {
    const stops = current
      .filter((r) => r.function === spec.name && removed.has(r.id))
      .map((r) => ({
        replicaId: r.id,
        action: 'stopped' as const,
        config: r.config,
        deviceId: r.deviceId,
        why: 'vertical scale-down: even the lowest quotas left it surplus',
      }));
    decisions.set(spec.name, {
      function: spec.name,
      plan,
      placement: [...stops, ...(placed.notes.get(spec.name) ?? [])],
    });
  }
  return {
    decision: {
      replicas: placed.replicas,
      unplaced: placed.unplaced,
      decisions,
      needsProfiling: plans.filter((p) => p.plan.needsProfiling).map((p) => p.spec.name),
    },
    state: next,
  };
}

export function oursPolicy(
  options: OursOptions = {},
  name = 'ours',
  description = 'SLO-feasible most-efficient config + residual, quotas of running replicas resized first, hysteresis, best-fit with model sharing and consolidation',
): PolicyFactory {
  return {
    name,
    description,
    liveQuota: true,
    create(): Policy {
      let state = new Map<string, FunctionPlanState>();
      return {
        name,
        decide(input) {
          const r = scheduleRound(input, state, options);
          state = r.state;
          return r.decision;
        },
      };
    },
  };
}
