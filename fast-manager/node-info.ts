/**
 * What `GET /v1/node` reports about this machine, devices included: the agent runs one `cpu`
 * device (a partition is a share of the node's cores) and one `emulated` device (one token
 * scheduler and one emulated accelerator per node, sharing/share-config.ts). GPUs (`cuda`) are
 * not counted by the agent, so they are left out (unknown to the scheduler, which then assumes
 * its configured devices per node).
 */
import { availableParallelism, totalmem } from 'node:os';
import type { NodeDevices, NodeInfo } from '../core/contracts/node-agent.ts';
import { VERSION } from '../core/version.ts';

export const NODE_DEVICES: readonly NodeDevices[] = [
  { kind: 'cpu', count: 1 },
  { kind: 'emulated', count: 1 },
];

export function nodeInfo(name: string, url: string): NodeInfo {
  return { name, url, cpus: availableParallelism(), memoryBytes: totalmem(), version: VERSION, devices: NODE_DEVICES.map((d) => ({ ...d })) };
}
