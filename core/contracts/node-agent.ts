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
 * Errors come back as `{ "code": ErrorCode, "message": string }` with the status that
 * `httpStatusFor(code)` gives, so the gateway can pass them on unchanged.
 */
import type { FunctionResources, LogMessage } from './openfaas.ts';

export const NODE_API_PREFIX = '/v1';

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
}

export type ReplicaState =
  | 'starting'   // process spawned, health check not yet passed
  | 'ready'      // serving: counts in availableReplicas
  | 'unhealthy'  // was ready, health check now failing
  | 'backoff'    // crashed; waiting before the next restart
  | 'draining'   // being stopped: finishing in-flight requests
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
  usage: { cpu: number; totalMemoryBytes: number };
}

export interface FunctionReplicas {
  name: string;
  namespace: string;
  image: string;
  /** Replicas asked for on this node. */
  desired: number;
  replicas: ReplicaStatus[];
}

export interface NodeInfo {
  name: string;
  url: string;
  cpus: number;
  memoryBytes: number;
  version: string;
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
}
