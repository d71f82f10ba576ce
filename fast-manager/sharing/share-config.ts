/**
 * A deployment's spatio-temporal share, read from its annotations (FaST-GShare §1):
 *   fastgshare/gpu_quota_request   guaranteed fraction of every window, 0..1
 *   fastgshare/gpu_quota_limit     most of a window it may use when others are idle, request..1
 *                                  (default 1: the request is the guarantee, idle time is free to use)
 *   fastgshare/gpu_sm_partition    share of the device's compute it occupies while it holds a token,
 *                                  1..100 % (default 100)
 *   fastgshare/gpu_mem             device memory of one replica: bytes or a Kubernetes quantity ("2Gi")
 *
 * A replica is token-gated when its deployment sets `gpu_quota_request` or `gpu_quota_limit`;
 * when only the limit is set the request is 0 (no guarantee, best effort up to the limit).
 * Without either (e.g. a plain echo function, or a cpu function that only sets a partition for
 * its core set) the replica runs ungated and `readShareConfig` returns undefined.
 */
import { PlatformError } from '../../core/errors.ts';
import { parseMemoryBytes } from '../apply/quantity.ts';
import type { ShareConfig } from './token-scheduler.ts';

export const SHARE_ANNOTATIONS = {
  quotaRequest: 'fastgshare/gpu_quota_request',
  quotaLimit: 'fastgshare/gpu_quota_limit',
  partition: 'fastgshare/gpu_sm_partition',
  memory: 'fastgshare/gpu_mem',
  device: 'fastgshare/device',
  cudaDevice: 'fastgshare/cuda_device',
} as const;

/** Annotations whose changes apply to running replicas without a restart. */
export const LIVE_SHARE_ANNOTATIONS: readonly string[] = [SHARE_ANNOTATIONS.quotaRequest, SHARE_ANNOTATIONS.quotaLimit];

export interface ReplicaShare extends ShareConfig {
  /** Device memory one replica may allocate, when set. */
  memoryBytes?: number;
}

function bad(annotation: string, message: string): PlatformError {
  return new PlatformError('bad_request', `annotation ${annotation}: ${message}`, { details: { field: `annotations.${annotation}` } });
}

function number(raw: string | undefined, annotation: string, min: number, max: number, range: string): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const v = Number(raw.trim());
  if (!Number.isFinite(v)) throw bad(annotation, `"${raw}" is not a number; use ${range}`);
  if (v < min || v > max) throw bad(annotation, `${v} is out of range; use ${range}`);
  return v;
}

/** The share the annotations ask for, or undefined when the replica is not token-gated. */
export function readShareConfig(annotations: Record<string, string> | undefined): ReplicaShare | undefined {
  const a = annotations ?? {};
  const A = SHARE_ANNOTATIONS;
  const request = number(a[A.quotaRequest], A.quotaRequest, 0, 1, 'a number from 0 to 1 (fraction of each time window)');
  const limit = number(a[A.quotaLimit], A.quotaLimit, 0, 1, 'a number above 0 and at most 1 (fraction of each time window)');
  const partition = number(a[A.partition], A.partition, 1, 100, 'a number from 1 to 100 (percent of the device)');
  const mem = a[A.memory];
  const memoryBytes = mem === undefined || mem.trim() === '' ? undefined : parseMemoryBytes(mem, `annotation ${A.memory}`);
  if (limit === 0) throw bad(A.quotaLimit, '0 is out of range; use a number above 0 and at most 1 (fraction of each time window)');
  if (request === undefined && limit === undefined) return undefined;
  const quotaRequest = request ?? 0;
  const quotaLimit = limit ?? 1;
  if (quotaLimit < quotaRequest) {
    throw bad(A.quotaLimit, `${quotaLimit} is below ${A.quotaRequest} (${quotaRequest}); use a limit from the request to 1`);
  }
  return { quotaRequest, quotaLimit, partition: partition ?? 100, ...(memoryBytes !== undefined ? { memoryBytes } : {}) };
}

/**
 * The device whose scheduler serves the replica: one per kind on a node for now ("cpu",
 * "emulated"), one per GPU for cuda ("cuda:0").
 */
export function deviceIdOf(annotations: Record<string, string> | undefined): string {
  const a = annotations ?? {};
  const kind = a[SHARE_ANNOTATIONS.device]?.trim() || 'cpu';
  if (kind === 'cuda') return `cuda:${a[SHARE_ANNOTATIONS.cudaDevice]?.trim() || '0'}`;
  return kind;
}
