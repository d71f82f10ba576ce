/** Ours: SLO-aware planning (planner.ts) + best-fit, model-sharing, consolidating placement (placement.ts). */
import type { ModelFootprint } from '../../core/profiles/profile-table.ts';
import { planFunction, type FunctionPlanState, type PlannerOptions } from '../planner.ts';
import { place, type PlacementOptions } from '../placement.ts';
import type { FunctionDecision, Policy, PolicyDecision, PolicyFactory, PolicyInput } from './policy.ts';

export interface OursOptions {
  planner?: Partial<PlannerOptions>;
  placement?: Partial<PlacementOptions>;
  /** Memory assumed for a model the profile table does not know (until it is profiled). */
  unknownFootprint?: ModelFootprint;
}

/** Larger than any calibrated model's weights + runtime (BERT-large: 1.4 GB + 1.4 GB). */
export const UNKNOWN_MODEL_FOOTPRINT: ModelFootprint = { weightsBytes: 0, replicaBytes: 4 * 1024 ** 3 };

/** One scheduling round: pure, state in and state out. */
export function scheduleRound(input: PolicyInput, state: ReadonlyMap<string, FunctionPlanState>, options: OursOptions = {}): { decision: PolicyDecision; state: Map<string, FunctionPlanState> } {
  const next = new Map<string, FunctionPlanState>();
  const plans = input.functions.map((spec) => {
    const plan = planFunction({ spec, demandRps: input.demand.get(spec.name) ?? 0, entries: input.profiles.entries(spec.model, spec.deviceClass), prev: state.get(spec.name), nowMs: input.nowMs, options: options.planner });
    next.set(spec.name, plan.state);
    return { spec, plan };
  });
  const known = new Set(input.profiles.models());
  const footprint = (m: string) => (known.has(m) ? input.profiles.footprint(m) : (options.unknownFootprint ?? UNKNOWN_MODEL_FOOTPRINT));
  const placed = place({ devices: input.devices, current: input.current, desired: plans.map(({ spec, plan }) => ({ spec, replicas: plan.replicas })), footprint, options: options.placement });
  const decisions = new Map<string, FunctionDecision>();
  for (const { spec, plan } of plans) decisions.set(spec.name, { function: spec.name, plan, placement: placed.notes.get(spec.name) ?? [] });
  return {
    decision: { replicas: placed.replicas, unplaced: placed.unplaced, decisions, needsProfiling: plans.filter((p) => p.plan.needsProfiling).map((p) => p.spec.name) },
    state: next,
  };
}

export function oursPolicy(options: OursOptions = {}): PolicyFactory {
  return {
    name: 'ours',
    description: 'SLO-feasible most-efficient config + residual, hysteresis, best-fit with model sharing and consolidation',
    create(): Policy {
      let state = new Map<string, FunctionPlanState>();
      return {
        name: 'ours',
        decide(input) {
          const r = scheduleRound(input, state, options);
          state = r.state;
          return r.decision;
        },
      };
    },
  };
}
