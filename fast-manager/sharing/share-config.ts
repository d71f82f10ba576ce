/**
 * A deployment's spatio-temporal share, read from its annotations (FaST-GShare §1):
 *   fastgshare/gpu_quota_request   guaranteed fraction of every window, 0..1
 *   fastgshare/gpu_quota_limit     most of a window it may use when others are idle, request..1
 *                                  (default 1: the request is the guarantee, idle time is free to use)
 *   fastgshare/gpu_sm_partition    share of the device's compute it occupies while it holds a token,
 *                                  1..100 % (default 100)
 *   fastgshare/slo_ms              its latency objective: the scheduler keeps other replicas' tokens
 *                                  short enough for it (token-scheduler.ts, SLO-aware token length)
 * Parsed by the one parser of the fastgshare/* annotations (devices/annotations.ts): the same
 * ranges, defaults and 400s naming the annotation as the device launcher.
 *   fastgshare/gpu_mem             device memory of one replica: bytes or a Kubernetes quantity ("2Gi")
 *
 * A replica is token-gated when its deployment sets `gpu_quota_request` or `gpu_quota_limit`;
 * when only the limit is set the request is 0 (no guarantee, best effort up to the limit).
 * Without either (e.g. a plain echo function, or a cpu function that only sets a partition for
 * its core set) the replica runs ungated and `readShareConfig` returns undefined.
 */
import { DEVICE_ANNOTATIONS, readDeviceId, readDeviceRequest } from '../../core/contracts/annotations.ts';
import type { ShareConfig } from './token-scheduler.ts';

export const SHARE_ANNOTATIONS = {
  quotaRequest: DEVICE_ANNOTATIONS.quotaRequest,
  quotaLimit: DEVICE_ANNOTATIONS.quotaLimit,
  partition: DEVICE_ANNOTATIONS.partition,
  memory: DEVICE_ANNOTATIONS.memory,
  device: DEVICE_ANNOTATIONS.device,
  cudaDevice: DEVICE_ANNOTATIONS.cudaDevice,
  emulatedDevice: DEVICE_ANNOTATIONS.emulatedDevice,
} as const;

/** Annotations whose changes apply to running replicas without a restart. */
export const LIVE_SHARE_ANNOTATIONS: readonly string[] = [SHARE_ANNOTATIONS.quotaRequest, SHARE_ANNOTATIONS.quotaLimit];

export interface ReplicaShare extends ShareConfig {
  /** Device memory one replica may allocate, when set. */
  memoryBytes?: number;
}

/** The share the annotations ask for, or undefined when the replica is not token-gated. */
export function readShareConfig(annotations: Record<string, string> | undefined): ReplicaShare | undefined {
  const r = readDeviceRequest(annotations);
  if (r.quotaRequest === undefined && r.quotaLimit === undefined) return undefined;
  return {
    quotaRequest: r.quotaRequest ?? 0,
    quotaLimit: r.quotaLimit ?? 1,
    partition: r.partitionPercent,
    ...(r.sloMs !== undefined ? { sloMs: r.sloMs } : {}),
    ...(r.memoryBytes !== undefined ? { memoryBytes: r.memoryBytes } : {}),
  };
}

/**
 * The device whose scheduler serves the replica: the node's cores ("cpu"), one per emulated
 * device ("emulated", "emulated:1", … by fastgshare/emulated_device), one per GPU ("cuda:0").
 */
export function deviceIdOf(annotations: Record<string, string> | undefined): string {
  return readDeviceId(annotations);
}
