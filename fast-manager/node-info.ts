/**
 * What `GET /v1/node` reports about this machine, devices included: one `cpu` device (a
 * partition is a share of the node's cores), each emulated device (FASTGSHARE_EMULATED_DEVICES;
 * devices/emulated-devices.ts) and each GPU nvidia-smi lists at start (none when it cannot run:
 * the kind is then left out, unknown to the scheduler). Every device carries the id of its token
 * scheduler (core/contracts/annotations.ts `readDeviceId`), so the id a replica is metered under in
 * GET /v1/usage is the one listed here.
 */
import { availableParallelism, totalmem } from 'node:os';
import type { NodeDevice, NodeInfo } from '../core/contracts/node-agent.ts';
import { VERSION } from '../core/version.ts';
import { cudaDeviceId, emulatedDeviceId } from '../core/contracts/devices.ts';
import type { GpuInfo } from './usage/device-memory.ts';

export interface NodeDeviceCounts {
  /** Emulated devices of the node (at least 1). */
  emulated: number;
  /** The GPUs nvidia-smi listed; undefined or empty when none could be listed. */
  gpus?: readonly GpuInfo[];
}

/** The node's devices in a stable order: cpu, emulated by index, cuda by index. */
export function nodeDevices(c: NodeDeviceCounts, memoryBytes = totalmem()): NodeDevice[] {
  const out: NodeDevice[] = [{ id: 'cpu', kind: 'cpu', index: 0, memoryBytes }];
  for (let i = 0; i < c.emulated; i++) out.push({ id: emulatedDeviceId(i), kind: 'emulated', index: i });
  for (const g of [...(c.gpus ?? [])].sort((a, b) => a.index - b.index)) {
    out.push({
      id: cudaDeviceId(g.index),
      kind: 'cuda',
      index: g.index,
      ...(g.memoryBytes !== undefined ? { memoryBytes: g.memoryBytes } : {}),
    });
  }
  return out;
}

export function nodeInfo(name: string, url: string, devices: NodeDeviceCounts): NodeInfo {
  const memoryBytes = totalmem();
  return {
    name,
    url,
    cpus: availableParallelism(),
    memoryBytes,
    version: VERSION,
    devices: nodeDevices(devices, memoryBytes),
  };
}
