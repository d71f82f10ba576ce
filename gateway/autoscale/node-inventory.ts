/** The nodes the scheduler places on: the answering node agents with their memory (asked once per node). */
import type { NodeAgentClient } from '../../core/contracts/node-agent.ts';
import type { Logger } from '../../core/logger.ts';
import type { LiveNode } from '../../scheduler/live/round.ts';

export interface NodeInventory {
  nodes(): Promise<LiveNode[]>;
}

export function createNodeInventory(d: { available: () => NodeAgentClient[]; log: Logger }): NodeInventory {
  const memory = new Map<string, number>();
  return {
    async nodes() {
      const out: LiveNode[] = [];
      for (const n of d.available()) {
        let m = memory.get(n.url);
        if (m === undefined) {
          try {
            m = (await n.info()).memoryBytes;
            memory.set(n.url, m);
          } catch (err) {
            d.log.warn('cannot read node info; leaving the node out of this round', { node: n.url, error: (err as Error).message });
            continue;
          }
        }
        out.push({ id: n.url, memoryBytes: m });
      }
      return out;
    },
  };
}
