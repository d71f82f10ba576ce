/**
 * The nodes the scheduler places on: the answering node agents with their memory and the devices
 * they report (asked once per node).
 */
import type { NodeAgentClient } from '../../core/contracts/node-agent.ts';
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
            k = { memoryBytes: info.memoryBytes, ...(info.devices ? { devices: Object.fromEntries(info.devices.map((x) => [x.kind, x.count])) } : {}) };
            known.set(n.url, k);
          } catch (err) {
            d.log.warn('cannot read node info; leaving the node out of this round', { node: n.url, error: (err as Error).message });
            continue;
          }
        }
        out.push({ id: n.url, ...k });
      }
      return out;
    },
  };
}
