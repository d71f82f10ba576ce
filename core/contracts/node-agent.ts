/**
 * The contract between the gateway (control plane) and a node agent (`fast-manager`).
 * The agent serves it over HTTP/JSON; the gateway holds one `NodeAgentClient` per node.
 *
 *   GET    /healthz                          200 "ok"
 *   GET    /v1/node                          NodeInfo
 *   GET    /v1/functions                     FunctionReplicas[]   (every function on this node)
 *   PUT    /v1/functions/:namespace/:name    body ApplyFunctionRequest → FunctionReplicas
 *                                            (idempotent: the agent reconciles to it)
 *   DELETE /v1/functions/:namespace/:name    → 200 {removed:true}; 404 when unknown
 *   GET    /v1/logs?namespace=&name=&instance=&tail=&since=&follow=   NDJSON of LogMessage
 *   GET    /metrics                          Prometheus text
 *
 *   GET    /v1/usage                         NodeUsage: the token meters (node-usage.ts; 404 without device sharing)
 *   GET    /v1/devices/:device/timeline?since=&last=   DeviceTimeline: token and batch events of one
 *                                            device (since: agent-clock ms; last: the last N ms)
 *
 * Every route needs `Authorization: Bearer <node token>` (401 without it): the agent's token from
 * FASTGSHARE_NODE_TOKEN(_FILE), else the one it keeps in `<dataDir>/NODE_TOKEN_FILE`.
 * Errors come back as `{ "code": ErrorCode, "message": string }` with the status that
 * `httpStatusFor(code)` gives, so the gateway can pass them on unchanged.
 */
import type { DeviceKind } from './devices.ts';
import type { NodeUsage } from './node-usage.ts';
import type { FunctionResources, LogMessage } from './openfaas.ts';

export const NODE_API_PREFIX = '/v1';

/** Where an agent keeps the token it made at first start, relative to its data dir (mode 0600). */
export const NODE_TOKEN_FILE = 'node-agent.token';

/**
 * The header that proves a request to a replica's port comes from the platform: its value is the
 * replica's `ReplicaStatus.forwardToken` (the replica gets it as FASTGSHARE_FORWARD_TOKEN and
 * answers 403 to a request without it).
 */
export const FORWARD_TOKEN_HEADER = 'x-fastgshare-forward';

/** What a node must run for one function: everything a replica needs, secrets resolved. */
export interface FunctionSpec {
  name: string;
  namespace: string;
  image: string;
  /** Overrides the bundle's fprocess when set. */
  envProcess?: string;
  envVars: Record<string, string>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  limits?: FunctionResources;
  requests?: FunctionResources;
  /** Secret name → value (base64 of the raw bytes); written to files the replica can read. */
  secrets: Record<string, string>;
  readOnlyRootFilesystem: boolean;
}

export interface ApplyFunctionRequest {
  spec: FunctionSpec;
  /** Replicas this node should run for the function. */
  replicas: number;
  /**
   * Replicas of different configurations: each group runs `replicas` replicas from the spec with
   * `annotations` laid over the spec's (only the keys in REPLICA_GROUP_ANNOTATIONS). The counts
   * sum to `replicas`; no two groups have the same overrides. Absent: every replica runs the spec
   * as it is.
   */
  groups?: ReplicaGroup[];
}

/** A set of a function's replicas on one node that run one configuration. */
export interface ReplicaGroup {
  replicas: number;
  /** Overrides of the spec's annotations for these replicas. */
  annotations: Record<string, string>;
}

/** The annotations a replica group may override: a replica's configuration and device. */
export const REPLICA_GROUP_ANNOTATIONS: readonly string[] = [
  'fastgshare/gpu_sm_partition',
  'fastgshare/gpu_quota_request',
  'fastgshare/gpu_quota_limit',
  'fastgshare/max_batch',
  'fastgshare/cuda_device',
  'fastgshare/emulated_device',
];

/**
 * The one name of a group's overrides ("k=v,k=v" in key order; "" for none): a replica reports
 * it (ReplicaStatus.group.key) and the gateway finds the replica's configuration by it.
 */
export function replicaGroupKey(annotations: Record<string, string>): string {
  return Object.keys(annotations)
    .sort()
    .map((k) => `${k}=${annotations[k]}`)
    .join(',');
}

export type ReplicaState =
  | 'starting' // process spawned, health check not yet passed
  | 'ready' // serving: counts in availableReplicas
  | 'unhealthy' // was ready, health check now failing
  | 'backoff' // crashed; waiting before the next restart
  | 'draining' // being stopped: finishing in-flight requests
  | 'stopped';

export interface ReplicaExit {
  code: number | null;
  signal: string | null;
  at: string;
  /** Human-readable: "exited with code 1", "killed: memory limit 256Mi exceeded", ... */
  reason: string;
}

export interface ReplicaStatus {
  id: string;
  name: string;
  namespace: string;
  node: string;
  /** Base URL the gateway proxies to, e.g. http://127.0.0.1:40123 */
  url: string;
  pid: number | null;
  state: ReplicaState;
  restarts: number;
  startedAt: string;
  readyAt?: string;
  lastExit?: ReplicaExit;
  usage: {
    cpu: number;
    totalMemoryBytes: number;
    /** cuda replicas: GPU memory their processes hold (from nvidia-smi). */
    deviceMemoryBytes?: number;
  };
  /** cuda replicas with fastgshare/gpu_mem: how that limit is enforced in the current run. */
  deviceMemoryLimit?: DeviceMemoryLimitStatus;
  /** The replica group it runs for, when the function was applied with groups. */
  group?: ReplicaGroupStatus;
  /**
   * The replica's forward token: send it as FORWARD_TOKEN_HEADER on every request to `url`
   * (the gateway's forwarder does). Secret: never shown to tenants.
   */
  forwardToken?: string;
}

/** How a cuda replica's fastgshare/gpu_mem limit stands in its current run. */
export interface DeviceMemoryLimitStatus {
  annotation: 'fastgshare/gpu_mem';
  /** As written in the annotation, e.g. "2Gi". */
  limit: string;
  limitBytes: number;
  /**
   * pending: not measured yet in this run; enforced: measured every sampling period and killed
   * above the limit; unenforced: the device memory cannot be measured (`reason` says why).
   */
  enforcement: 'pending' | 'enforced' | 'unenforced';
  reason?: string;
}

export interface ReplicaGroupStatus {
  /** replicaGroupKey(annotations). */
  key: string;
  /** The group's overrides of the spec's annotations. */
  annotations: Record<string, string>;
}

export interface FunctionReplicas {
  name: string;
  namespace: string;
  image: string;
  /** Replicas asked for on this node. */
  desired: number;
  /** The replica groups asked for, when the function was applied with groups. */
  groups?: (ReplicaGroupStatus & { desired: number })[];
  replicas: ReplicaStatus[];
}

export interface NodeInfo {
  name: string;
  url: string;
  cpus: number;
  memoryBytes: number;
  version: string;
  /**
   * Every device replicas can share on this node: the node's cores (`cpu`), each emulated device
   * (node config FASTGSHARE_EMULATED_DEVICES) and each GPU nvidia-smi lists. A kind with no device
   * listed is unknown (the scheduler then assumes its FASTGSHARE_AUTOSCALE_DEVICES_PER_NODE).
   */
  devices?: NodeDevice[];
}

/** One device of a node. */
export interface NodeDevice {
  /** Stable id on the node: its token scheduler's ("cpu", "emulated", "emulated:1", "cuda:0"). */
  id: string;
  /** The fastgshare/device value that runs on it. */
  kind: DeviceKind;
  /** Index within its kind: the fastgshare/emulated_device or fastgshare/cuda_device that picks it (0 for cpu). */
  index: number;
  /** Its memory, when known (cpu: the node's; cuda: the GPU's total). */
  memoryBytes?: number;
}

export interface LogQuery {
  name: string;
  namespace: string;
  instance?: string;
  /** Last N lines; -1 or undefined = all kept lines. */
  tail?: number;
  since?: Date;
  follow?: boolean;
}

/** The gateway's view of one node agent. */
export interface NodeAgentClient {
  readonly url: string;
  info(): Promise<NodeInfo>;
  listFunctions(): Promise<FunctionReplicas[]>;
  applyFunction(req: ApplyFunctionRequest): Promise<FunctionReplicas>;
  /** Resolves false when the node did not know the function. */
  removeFunction(namespace: string, name: string): Promise<boolean>;
  /** Log lines in time order; with `follow`, keeps yielding until `signal` aborts. */
  logs(query: LogQuery, signal?: AbortSignal): AsyncIterable<LogMessage>;
  /** `GET /v1/usage`, checked against NodeUsageSchema; undefined when the agent does not meter (404). */
  usage(): Promise<NodeUsage | undefined>;
  /** `GET /v1/devices/:device/timeline` (absent on clients that do not read timelines). */
  timeline?(device: string, query?: TimelineQuery): Promise<DeviceTimeline>;
}

/** Which part of a device's timeline to read: events at or after `since` (agent-clock ms), or the last `lastMs`. */
export interface TimelineQuery {
  since?: number;
  lastMs?: number;
}

/**
 * What the node agent records per device (fast-manager/timeline/): the token channel's
 *   acquire  a replica asks for a token (burstMs: the burst it reports)
 *   grant    it gets one (quotaMs: the token's length; waitedMs: since its acquire)
 *   release  its token ends (heldMs: grant → release by the agent's clock; usedMs: what the replica reports)
 *   leave    it left the scheduler (disconnected or stopped): it neither waits nor holds any more
 * and the emulated device's
 *   batch-start / batch-end   one batch (batch: its key on the device; soloMs: its device time alone;
 *                             elapsedMs: wall time it took; cancelled: its replica went away)
 * `t` is the agent's monotonic clock in ms; `partition` the replica's compute partition (%).
 * A batch's `replica` is known when the device could tell whose it is (see `source`).
 */
export type TimelineEventKind = 'acquire' | 'grant' | 'release' | 'leave' | 'batch-start' | 'batch-end';

export interface TimelineEvent {
  t: number;
  kind: TimelineEventKind;
  replica?: string;
  partition: number;
  quotaMs?: number;
  waitedMs?: number;
  heldMs?: number;
  usedMs?: number;
  burstMs?: number;
  batch?: number;
  /** The device connection a batch came in on (one per replica process). */
  source?: number;
  soloMs?: number;
  elapsedMs?: number;
  cancelled?: boolean;
}

/** A replica seen on the device's token channel. */
export interface TimelineReplica {
  id: string;
  partition: number;
  /** "name.namespace" and the token share, when the replica registered while the agent recorded. */
  function?: string;
  quotaRequest?: number;
  quotaLimit?: number;
}

export interface DeviceTimeline {
  device: string;
  /** The window the events cover (agent-clock ms): `to` is the agent's now. */
  window: { from: number; to: number };
  /** Ring buffer size per device, and events it dropped since the agent started. */
  capacity: number;
  dropped: number;
  /** Whether the device reports batches (emulated devices do; cpu and cuda only tokens). */
  batches: boolean;
  replicas: TimelineReplica[];
  /** What was going on at `window.from` (replayed from the buffer). */
  open: {
    waiting: { replica: string; partition: number; since: number }[];
    holding: { replica: string; partition: number; since: number }[];
    running: { batch: number; replica?: string; partition: number; since: number }[];
  };
  /** In time order. */
  events: TimelineEvent[];
}
