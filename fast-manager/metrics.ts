/**
 * The agent's Prometheus metrics on an injected registry: replicas by state and the GPU memory
 * of each cuda replica (both computed at scrape time), replica restarts, and the default process
 * metrics, all prefixed `fastgshare_node_`.
 */
import { Counter, Gauge, collectDefaultMetrics, type Registry } from 'prom-client';
import type { FunctionReplicas, ReplicaState } from '../core/contracts/node-agent.ts';

export const METRIC_PREFIX = 'fastgshare_node_';
const STATES: ReplicaState[] = ['starting', 'ready', 'unhealthy', 'backoff', 'draining'];

export interface AgentMetrics {
  replicaRestarted(namespace: string, name: string): void;
}

export function createAgentMetrics(
  registry: Registry,
  states: () => ReplicaState[],
  functions: () => FunctionReplicas[] = () => [],
): AgentMetrics {
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  new Gauge({
    name: `${METRIC_PREFIX}replicas`,
    help: 'Replicas on this node by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const counts = new Map<string, number>(STATES.map((s) => [s, 0]));
      for (const s of states()) counts.set(s, (counts.get(s) ?? 0) + 1);
      for (const [state, n] of counts) this.set({ state }, n);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}replica_device_memory_bytes`,
    help: 'GPU memory held by the processes of a cuda replica (read with nvidia-smi; fastgshare/gpu_mem is enforced on it)',
    labelNames: ['function_name', 'replica'],
    registers: [registry],
    collect() {
      this.reset();
      for (const f of functions()) {
        for (const r of f.replicas) {
          const bytes = r.usage?.deviceMemoryBytes;
          if (bytes !== undefined && r.pid !== null)
            this.set({ function_name: `${f.name}.${f.namespace}`, replica: r.id }, bytes);
        }
      }
    },
  });
  const restarts = new Counter({
    name: `${METRIC_PREFIX}replica_restarts_total`,
    help: 'Replica restarts after a crash, health failure or memory-limit kill',
    labelNames: ['function_name'],
    registers: [registry],
  });
  return {
    replicaRestarted(namespace, name) {
      restarts.inc({ function_name: `${name}.${namespace}` });
    },
  };
}
