/** The shapes the pure scheduling core takes in and hands back (no clocks, no I/O). */
import type { ReplicaConfig } from '../core/profiles/profile-table.ts';

export type { ReplicaConfig };

/** What the scheduler knows about one function. */
export interface FunctionSpec {
  name: string;
  /** Profile key (the model the function serves). */
  model: string;
  deviceClass: string;
  /** Latency objective per request, ms (from the function's annotation). */
  sloMs: number;
  minReplicas: number;
  maxReplicas: number;
}

export interface DeviceSpec {
  id: string;
  nodeId: string;
  deviceClass: string;
  memoryBytes: number;
}

/**
 * How much waiting a replica tolerates and how long it holds a device, for placing it on a device
 * whose partitions add up to more than 100 % (where replicas wait for each other's tokens).
 */
export interface LatencyBudget {
  /** SLO minus the latency the plan already counts on, ms. */
  slackMs: number;
  /** Longest a batch of it holds the device in one token, ms. */
  holdMs: number;
}

/** One replica on one device. */
export interface PlacedReplica {
  id: string;
  function: string;
  model: string;
  deviceId: string;
  nodeId: string;
  config: ReplicaConfig;
  /** Profiled requests/s of this replica (its routing weight is proportional to it). */
  capacityRps: number;
  latency?: LatencyBudget;
  /**
   * Set by the round that changed this running replica's quota in place (vertical scaling): the
   * configuration it ran before. Same process, same device, so no restart (the simulator keeps the
   * replica warm; the node agent applies the new quota live). Absent on every other replica.
   */
  resizedFrom?: ReplicaConfig;
}

/** A replica the planner wants, before placement. */
export interface PlannedReplica {
  config: ReplicaConfig;
  capacityRps: number;
  role: 'saturated' | 'residual' | 'minimum' | 'default';
  latency?: LatencyBudget;
}
