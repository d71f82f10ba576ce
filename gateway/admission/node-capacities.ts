/**
 * Each node's name and memory (GET /v1/node), asked once per node and again after `ttlMs`. A node
 * whose info cannot be read is checked for its devices only (every device holds at most one
 * device of guaranteed share whatever the node says); its memory check is skipped, and said so.
 */
import type { NodeAgentClient } from '../../core/contracts/node-agent.ts';
import type { Logger } from '../../core/logger.ts';
import type { Clock } from '../../core/clock.ts';
import type { NodeCapacity } from './violations.ts';

export interface NodeCapacities {
  of(nodes: readonly NodeAgentClient[]): Promise<Map<string, NodeCapacity>>;
}

export function createNodeCapacities(d: { clock: Clock; log: Logger; ttlMs?: number }): NodeCapacities {
  const ttl = d.ttlMs ?? 60_000;
  const known = new Map<string, { cap: NodeCapacity; at: number }>();
  return {
    async of(nodes) {
      const now = d.clock.now();
      const out = new Map<string, NodeCapacity>();
      await Promise.all(
        nodes.map(async (n) => {
          const hit = known.get(n.url);
          if (hit && now - hit.at < ttl) {
            out.set(n.url, hit.cap);
            return;
          }
          try {
            const info = await n.info();
            const cap: NodeCapacity = {
              name: info.name,
              ...(Number.isFinite(info.memoryBytes) && info.memoryBytes > 0 ? { memoryBytes: info.memoryBytes } : {}),
            };
            known.set(n.url, { cap, at: now });
            out.set(n.url, cap);
          } catch (err) {
            d.log.warn('cannot read node info: its memory is not checked by admission this time', {
              node: n.url,
              error: (err as Error).message,
            });
            out.set(n.url, hit?.cap ?? { name: n.url });
          }
        }),
      );
      return out;
    },
  };
}
