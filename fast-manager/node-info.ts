/** What `GET /v1/node` reports about this machine. */
import { availableParallelism, totalmem } from 'node:os';
import type { NodeInfo } from '../core/contracts/node-agent.ts';
import { VERSION } from '../core/version.ts';

export function nodeInfo(name: string, url: string): NodeInfo {
  return { name, url, cpus: availableParallelism(), memoryBytes: totalmem(), version: VERSION };
}
