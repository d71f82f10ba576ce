/**
 * A scheduling policy: given the functions, their demand, the devices and the replicas running
 * now, decide the replicas that should run. The simulator runs every policy through this one
 * interface; ours is the same code the live loop runs.
 */
import type { ProfileTable } from '../../core/profiles/profile-table.ts';
import type { FunctionPlan } from '../planner.ts';
import type { PlacementNote } from '../placement.ts';
import type { DeviceSpec, FunctionSpec, PlacedReplica, ReplicaConfig } from '../types.ts';

export interface PolicyInput {
  nowMs: number;
  functions: readonly FunctionSpec[];
  /** Estimated demand per function (requests/s, headroom included). */
  demand: ReadonlyMap<string, number>;
  devices: readonly DeviceSpec[];
  current: readonly PlacedReplica[];
  profiles: ProfileTable;
}

/** Everything `fastgshare explain <fn>` prints about one function. */
export interface FunctionDecision {
  function: string;
  plan?: FunctionPlan;
  placement: PlacementNote[];
}

export interface PolicyDecision {
  replicas: PlacedReplica[];
  unplaced: { function: string; config: ReplicaConfig; reason: string }[];
  decisions?: Map<string, FunctionDecision>;
  /** Functions that have no profile and need a profiling job. */
  needsProfiling?: string[];
}

export interface Policy {
  readonly name: string;
  decide(input: PolicyInput): PolicyDecision;
}

export interface PolicyFactory {
  readonly name: string;
  readonly description: string;
  /**
   * Runs on this platform's node agent, which applies a quota-only change of a running replica
   * live (fast-manager README "Replica groups"); the simulator then keeps such a replica warm.
   * Absent: every change of configuration starts a new replica (the baselines' own systems).
   */
  readonly liveQuota?: boolean;
  /** A fresh instance (policies may remember their previous decisions). */
  create(): Policy;
}
