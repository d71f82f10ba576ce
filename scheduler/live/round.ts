/**
 * The live loop's pure part: builds one scheduling round's input from what the gateway knows
 * (functions, measured demand, nodes) and turns the decision into what the control plane applies:
 * a replica count per function, replicas per node, and per node the groups of replicas of one
 * configuration on one device (the plan's saturated replicas and its cheaper residual replica run
 * side by side; replicas placed on different devices of a node are different groups, each naming
 * its device's index, so the node runs them where the scheduler placed them).
 * No clock, no I/O.
 */
import { configKey, type ProfileTable, type ReplicaConfig } from '../../core/profiles/profile-table.ts';
import type { FunctionPlanState } from '../planner.ts';
import { scheduleRound, type OursOptions } from '../policies/ours.ts';
import type { FunctionDecision, PolicyDecision } from '../policies/policy.ts';
import type { DeviceSpec, PlacedReplica } from '../types.ts';
import { deviceKindOf } from '../../core/contracts/devices.ts';
import { configOverrides, DEVICE_INDEX_ANNOTATION, type LiveFunction } from './live-function.ts';

/** A node as the scheduler sees it. */
export interface LiveNode {
  /** Stable id: the node agent's URL. */
  id: string;
  memoryBytes: number;
  /**
   * Devices per kind (cpu | emulated | cuda) the node reported, indexes 0 … n-1; kinds absent are
   * unknown.
   */
  devices?: Partial<Record<string, number>>;
  /** Memory of each reported device per kind, by index, when known (else the node's memoryBytes). */
  deviceMemoryBytes?: Partial<Record<string, readonly (number | undefined)[]>>;
}

/** A device the scheduler places on, with where it is on its node. */
export interface LiveDevice extends DeviceSpec {
  /** Its device kind (fastgshare/device). */
  kind: string;
  /** Its index within the kind on the node. */
  index: number;
  /** The node reported devices of this kind (else they are devicesPerNode assumed ones). */
  reported: boolean;
}

/**
 * The devices of every device class the functions use, on every node: as many as the node
 * reports of the class's kind (a cpu node is one device whose partition is a share of its cores),
 * `perNode` of a kind it does not report.
 */
export function nodeDevices(
  nodes: readonly LiveNode[],
  deviceClasses: Iterable<string>,
  perNode: number,
): LiveDevice[] {
  const classes = [...new Set(deviceClasses)].sort();
  const out: LiveDevice[] = [];
  for (const n of [...nodes].sort((a, b) => a.id.localeCompare(b.id))) {
    for (const c of classes) {
      const kind = deviceKindOf(c);
      const reported = n.devices?.[kind];
      const count = reported ?? perNode;
      for (let i = 0; i < count; i++) {
        const memoryBytes = n.deviceMemoryBytes?.[kind]?.[i] ?? n.memoryBytes;
        out.push({
          id: `${n.id}#${c}${i}`,
          nodeId: n.id,
          deviceClass: c,
          memoryBytes,
          kind,
          index: i,
          reported: reported !== undefined,
        });
      }
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

/** Replicas of one configuration on one node (and one device of it, when the node reported its devices). */
export interface PlannedGroup {
  config: ReplicaConfig;
  /** Profiled requests/s of one replica of `config`. */
  capacityRps: number;
  replicas: number;
  /**
   * The device they run on, when the node reported devices of an indexed kind (emulated, cuda):
   * the group then names its index (live-function.ts groupOverrides). Absent: the node picks
   * (cpu, or a kind the node did not report).
   */
  device?: PlannedDevice;
}

/** A device of a node that a replica group names. */
export interface PlannedDevice {
  kind: 'emulated' | 'cuda';
  index: number;
}

/** The kinds whose devices a replica group can name (fastgshare/emulated_device, fastgshare/cuda_device). */
const INDEXED_KINDS: readonly string[] = ['emulated', 'cuda'];

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
  const uniform = reps.every(
    (r) =>
      r.config.partitionPercent === first.config.partitionPercent &&
      r.config.quota === first.config.quota &&
      r.config.batch === first.config.batch,
  );
  return uniform ? { config: first.config, capacityRps: first.capacityRps } : undefined;
}

export function runLiveRound(
  input: LiveRoundInput,
  state: ReadonlyMap<string, FunctionPlanState>,
  options: OursOptions = {},
): LiveRoundResult {
  const keys = new Set(input.functions.map((f) => f.key));
  const devices = nodeDevices(
    input.nodes,
    input.functions.map((f) => f.spec.deviceClass),
    input.devicesPerNode,
  );
  const byId = new Map(devices.map((d) => [d.id, d]));
  const current = input.current.filter((r) => keys.has(r.function) && byId.has(r.deviceId));
  const prev = new Map([...state].filter(([k]) => keys.has(k)));
  const r = scheduleRound(
    {
      nowMs: input.nowMs,
      functions: input.functions.map((f) => f.spec),
      demand: input.demand,
      devices,
      current,
      profiles: input.profiles,
    },
    prev,
    options,
  );
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
    const groups =
      perNode && decision.plan && !decision.plan.needsProfiling && placed.length > 0
        ? groupsPerNode(placed, byId)
        : undefined;
    targets.push({
      key: f.key,
      replicas,
      perNode,
      config: chosen?.config,
      capacityRps: chosen?.capacityRps,
      ...(groups ? { groups } : {}),
      decision,
    });
  }
  return { targets, decision: r.decision, state: r.state };
}

/** The device a group names: a reported device of an indexed kind; undefined otherwise. */
function plannedDevice(d: LiveDevice | undefined): PlannedDevice | undefined {
  return d && d.reported && INDEXED_KINDS.includes(d.kind)
    ? { kind: d.kind as PlannedDevice['kind'], index: d.index }
    : undefined;
}

const groupOrder = (a: PlannedGroup, b: PlannedGroup) =>
  b.replicas - a.replicas ||
  configKey(a.config).localeCompare(configKey(b.config)) ||
  (a.device?.index ?? -1) - (b.device?.index ?? -1);

/**
 * Placed replicas grouped per node, configuration and (for devices the node reported, see
 * `plannedDevice`) device; within a node the largest group first.
 */
export function groupsPerNode(
  placed: readonly PlacedReplica[],
  devices: ReadonlyMap<string, LiveDevice> = new Map(),
): Map<string, PlannedGroup[]> {
  const byNode = new Map<string, Map<string, PlannedGroup>>();
  for (const p of placed) {
    let groups = byNode.get(p.nodeId);
    if (!groups) byNode.set(p.nodeId, (groups = new Map()));
    const device = plannedDevice(devices.get(p.deviceId));
    const k = `${configKey(p.config)}@${device ? `${device.kind}${device.index}` : ''}`;
    const g = groups.get(k);
    if (g) g.replicas++;
    else groups.set(k, { config: p.config, capacityRps: p.capacityRps, replicas: 1, ...(device ? { device } : {}) });
  }
  const out = new Map<string, PlannedGroup[]>();
  for (const [node, groups] of byNode) out.set(node, [...groups.values()].sort(groupOrder));
  return out;
}

/**
 * A planned group's annotation overrides (ApplyFunctionRequest.groups) for a function whose own
 * annotations are `current`: its configuration (configOverrides) and, when it names a device,
 * that device's index (fastgshare/emulated_device or fastgshare/cuda_device).
 */
export function groupOverrides(
  g: Pick<PlannedGroup, 'config' | 'device'>,
  current: Record<string, string> = {},
): Record<string, string> {
  return {
    ...configOverrides(g.config, current),
    ...(g.device ? { [DEVICE_INDEX_ANNOTATION[g.device.kind]]: String(g.device.index) } : {}),
  };
}
