/**
 * The live loop's pure part: builds one scheduling round's input from what the gateway knows
 * (functions, measured demand, nodes) and turns the decision into what the control plane applies:
 * a replica count per function, replicas per node, and per node the groups of replicas of one
 * configuration (the plan's saturated replicas and its cheaper residual replica run side by side).
 * No clock, no I/O.
 */
import { configKey, type ProfileTable, type ReplicaConfig } from '../../core/profiles/profile-table.ts';
import type { FunctionPlanState } from '../planner.ts';
import { scheduleRound, type OursOptions } from '../policies/ours.ts';
import type { FunctionDecision, PolicyDecision } from '../policies/policy.ts';
import type { DeviceSpec, PlacedReplica } from '../types.ts';
import { deviceKindOf, type LiveFunction } from './live-function.ts';

/** A node as the scheduler sees it. */
export interface LiveNode {
  /** Stable id: the node agent's URL. */
  id: string;
  memoryBytes: number;
  /** Devices per kind (cpu | emulated | cuda) the node reported; kinds absent are unknown. */
  devices?: Partial<Record<string, number>>;
}

/**
 * The devices of every device class the functions use, on every node: as many as the node
 * reports of the class's kind (a cpu node is one device whose partition is a share of its cores),
 * `perNode` of a kind it does not report.
 */
export function nodeDevices(nodes: readonly LiveNode[], deviceClasses: Iterable<string>, perNode: number): DeviceSpec[] {
  const classes = [...new Set(deviceClasses)].sort();
  const out: DeviceSpec[] = [];
  for (const n of [...nodes].sort((a, b) => a.id.localeCompare(b.id))) {
    for (const c of classes) {
      const count = n.devices?.[deviceKindOf(c)] ?? perNode;
      for (let i = 0; i < count; i++) out.push({ id: `${n.id}#${c}${i}`, nodeId: n.id, deviceClass: c, memoryBytes: n.memoryBytes });
    }
  }
  return out;
}

export interface LiveRoundInput {
  nowMs: number;
  functions: readonly LiveFunction[];
  /** Estimated demand per function key, requests/s (headroom included). */
  demand: ReadonlyMap<string, number>;
  nodes: readonly LiveNode[];
  devicesPerNode: number;
  /** The replicas the previous round placed (what runs, as far as the scheduler knows). */
  current: readonly PlacedReplica[];
  profiles: ProfileTable;
}

/** What the control plane applies for one function. */
export interface FunctionTarget {
  key: string;
  /** Replicas the plan wants (within the function's bounds). */
  replicas: number;
  /** Replicas per node id when every planned replica was placed; undefined otherwise. */
  perNode?: Map<string, number>;
  /**
   * The plan's main configuration: its saturated (most efficient) one, or that of its only kind
   * of replica; undefined when the plan mixes kinds without a saturated one or has no profile.
   */
  config?: ReplicaConfig;
  /** Profiled requests/s of one replica of `config`. */
  capacityRps?: number;
  /**
   * Per node id, the placed replicas grouped by configuration (most replicas first), when every
   * planned replica was placed and the plan rests on a profile; undefined otherwise (the function
   * then runs its own annotations).
   */
  groups?: Map<string, PlannedGroup[]>;
  decision: FunctionDecision;
}

/** Replicas of one configuration on one node. */
export interface PlannedGroup {
  config: ReplicaConfig;
  /** Profiled requests/s of one replica of `config`. */
  capacityRps: number;
  replicas: number;
}

export interface LiveRoundResult {
  targets: FunctionTarget[];
  decision: PolicyDecision;
  state: Map<string, FunctionPlanState>;
}

function chosenConfig(d: FunctionDecision): { config: ReplicaConfig; capacityRps: number } | undefined {
  const reps = d.plan?.replicas ?? [];
  if (reps.length === 0 || d.plan?.needsProfiling) return undefined;
  const sat = reps.find((r) => r.role === 'saturated');
  if (sat) return { config: sat.config, capacityRps: sat.capacityRps };
  const first = reps[0]!;
  const uniform = reps.every((r) => r.config.partitionPercent === first.config.partitionPercent && r.config.quota === first.config.quota && r.config.batch === first.config.batch);
  return uniform ? { config: first.config, capacityRps: first.capacityRps } : undefined;
}

export function runLiveRound(input: LiveRoundInput, state: ReadonlyMap<string, FunctionPlanState>, options: OursOptions = {}): LiveRoundResult {
  const keys = new Set(input.functions.map((f) => f.key));
  const devices = nodeDevices(input.nodes, input.functions.map((f) => f.spec.deviceClass), input.devicesPerNode);
  const deviceIds = new Set(devices.map((d) => d.id));
  const current = input.current.filter((r) => keys.has(r.function) && deviceIds.has(r.deviceId));
  const prev = new Map([...state].filter(([k]) => keys.has(k)));
  const r = scheduleRound({ nowMs: input.nowMs, functions: input.functions.map((f) => f.spec), demand: input.demand, devices, current, profiles: input.profiles }, prev, options);
  const targets: FunctionTarget[] = [];
  for (const f of input.functions) {
    const decision = r.decision.decisions?.get(f.key) ?? { function: f.key, placement: [] };
    const replicas = decision.plan?.replicas.length ?? f.replicas;
    const placed = r.decision.replicas.filter((p) => p.function === f.key);
    let perNode: Map<string, number> | undefined;
    if (placed.length === replicas) {
      perNode = new Map();
      for (const p of placed) perNode.set(p.nodeId, (perNode.get(p.nodeId) ?? 0) + 1);
    }
    const chosen = chosenConfig(decision);
    const groups = perNode && decision.plan && !decision.plan.needsProfiling && placed.length > 0 ? groupsPerNode(placed) : undefined;
    targets.push({ key: f.key, replicas, perNode, config: chosen?.config, capacityRps: chosen?.capacityRps, ...(groups ? { groups } : {}), decision });
  }
  return { targets, decision: r.decision, state: r.state };
}

/** Placed replicas grouped per node and configuration; within a node the largest group first. */
export function groupsPerNode(placed: readonly PlacedReplica[]): Map<string, PlannedGroup[]> {
  const byNode = new Map<string, Map<string, PlannedGroup>>();
  for (const p of placed) {
    let groups = byNode.get(p.nodeId);
    if (!groups) byNode.set(p.nodeId, (groups = new Map()));
    const k = configKey(p.config);
    const g = groups.get(k);
    if (g) g.replicas++;
    else groups.set(k, { config: p.config, capacityRps: p.capacityRps, replicas: 1 });
  }
  const out = new Map<string, PlannedGroup[]>();
  for (const [node, groups] of byNode) out.set(node, [...groups.values()].sort((a, b) => b.replicas - a.replicas || configKey(a.config).localeCompare(configKey(b.config))));
  return out;
}
