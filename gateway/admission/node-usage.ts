/**
 * What every node holds when the functions run where the placement puts them: per node, Σ
 * replicas × limits.memory, and per device of the node, Σ replicas × guaranteed share (a replica
 * group's annotations laid over the function's, as the node runs it).
 */
import type { NodeAgentClient } from '../../core/contracts/node-agent.ts';
import type { Placement } from '../control/placement.ts';
import { replicaMemory, replicaShare, type AdmissionFunction } from './footprint.ts';

export interface NodeUsage {
  memoryBytes: number;
  /** Device id → Σ guaranteed share, in devices. */
  devices: Map<string, number>;
}

/** Node URL → its usage (nodes given no replica are present with zeros). */
export function nodeUsage(
  functions: readonly AdmissionFunction[],
  nodes: readonly NodeAgentClient[],
  placement: Placement,
): Map<string, NodeUsage> {
  const out = new Map<string, NodeUsage>(nodes.map((n) => [n.url, { memoryBytes: 0, devices: new Map() }]));
  if (nodes.length === 0) return out;
  for (const f of functions) {
    if (f.replicas <= 0) continue;
    const req = { name: f.name, namespace: f.namespace, replicas: f.replicas };
    const memory = replicaMemory(f.limits);
    for (const [node, count] of placement.place(req, nodes)) {
      const u = out.get(node.url);
      if (!u || count <= 0) continue;
      u.memoryBytes += count * memory;
      const groups = placement.groups?.(req, node, count) ?? [{ replicas: count, annotations: {} }];
      for (const g of groups) {
        const s = replicaShare({ ...f.annotations, ...g.annotations });
        if (s.share > 0) u.devices.set(s.deviceId, (u.devices.get(s.deviceId) ?? 0) + g.replicas * s.share);
      }
    }
  }
  return out;
}
