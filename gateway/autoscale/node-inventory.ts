/**
 * The nodes the scheduler places on: the answering node agents with their memory and the devices
 * they report (asked once per node): how many of each kind, and each one's memory when known.
 * The scheduler's i-th device of a kind on a node is the node's device of index i (the index a
 * replica group's fastgshare/emulated_device or fastgshare/cuda_device names).
 */
import type { NodeAgentClient, NodeDevice } from '../../core/contracts/node-agent.ts';
import type { Logger } from '../../core/logger.ts';
import type { LiveNode } from '../../scheduler/live/round.ts';

export interface NodeInventory {
  nodes(): Promise<LiveNode[]>;
}

export function createNodeInventory(d: { available: () => NodeAgentClient[]; log: Logger }): NodeInventory {
  const known = new Map<string, Omit<LiveNode, 'id'>>();
  return {
    async nodes() {
      const out: LiveNode[] = [];
      for (const n of d.available()) {
        let k = known.get(n.url);
        if (k === undefined) {
          try {
            const info = await n.info();
            k = { memoryBytes: info.memoryBytes, ...liveDevices(info.devices) };
            known.set(n.url, k);
          } catch (err) {
            d.log.warn('cannot read node info; leaving the node out of this round', {
              node: n.url,
              error: (err as Error).message,
            });
            continue;
          }
        }
        out.push({ id: n.url, ...k });
      }
      return out;
    },
  };
}

/** A node's reported devices as the scheduler takes them (counts per kind, memory by index). */
export function liveDevices(
  devices: readonly NodeDevice[] | undefined,
): Pick<LiveNode, 'devices' | 'deviceMemoryBytes'> {
  if (!devices) return {};
  const counts: Record<string, number> = {};
  const memory: Record<string, (number | undefined)[]> = {};
  for (const d of devices) {
    if (!Number.isInteger(d.index) || d.index < 0) continue;
    counts[d.kind] = Math.max(counts[d.kind] ?? 0, d.index + 1);
    (memory[d.kind] ??= [])[d.index] = d.memoryBytes;
  }
  const known = Object.entries(memory).filter(([, m]) => m.some((x) => x !== undefined));
  return { devices: counts, ...(known.length ? { deviceMemoryBytes: Object.fromEntries(known) } : {}) };
}
