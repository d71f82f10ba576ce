/**
 * A deployment's device and sharing settings, read from its annotations (validated at deploy
 * time; a bad value is a 400 naming the annotation):
 *   fastgshare/device               cpu | emulated | cuda                       (default cpu)
 *   fastgshare/gpu_sm_partition     compute partition, percent 1..100           (default 100)
 *                                   cpu: share of the node's cores; cuda: MPS active-thread %
 *   fastgshare/gpu_mem              device memory of one replica, e.g. "2Gi"    (cuda, emulated)
 *   fastgshare/gpu_quota_request    time quota per window the replica is guaranteed, 0..1
 *   fastgshare/gpu_quota_limit      time quota per window the replica may use at most, 0..1
 *   fastgshare/slo_ms               latency objective of one request, ms
 *   fastgshare/max_batch            largest batch the runtime forms, 1..1024
 *   fastgshare/emulated_profile     emulated: the calibrated model it behaves like (e.g. v100-resnet50)
 *   fastgshare/cuda_device          cuda: device id                             (default 0)
 * A deployment with none of these is not a model function: it runs as a plain process.
 */
import { PlatformError } from '../../core/errors.ts';
import { parseMemoryBytes } from '../apply/quantity.ts';

export type DeviceKind = 'cpu' | 'emulated' | 'cuda';

export const DEVICE_ANNOTATIONS = {
  device: 'fastgshare/device',
  partition: 'fastgshare/gpu_sm_partition',
  memory: 'fastgshare/gpu_mem',
  quotaRequest: 'fastgshare/gpu_quota_request',
  quotaLimit: 'fastgshare/gpu_quota_limit',
  sloMs: 'fastgshare/slo_ms',
  maxBatch: 'fastgshare/max_batch',
  emulatedProfile: 'fastgshare/emulated_profile',
  cudaDevice: 'fastgshare/cuda_device',
} as const;

export interface DeviceRequest {
  device: DeviceKind;
  partitionPercent: number;
  memoryBytes?: number;
  quotaRequest?: number;
  quotaLimit?: number;
  sloMs?: number;
  maxBatch?: number;
  emulatedProfile?: string;
  cudaDevice: number;
}

function bad(annotation: string, message: string): PlatformError {
  return new PlatformError('bad_request', `annotation ${annotation}: ${message}`, { details: { field: `annotations.${annotation}` } });
}

function num(raw: string | undefined, annotation: string, min: number, max: number, opts: { whole?: boolean; openMin?: boolean } = {}): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const v = Number(raw.trim());
  const kind = opts.whole ? 'a whole number' : 'a number';
  if (!Number.isFinite(v) || (opts.whole && !Number.isInteger(v))) throw bad(annotation, `"${raw}" is not ${kind}`);
  if ((opts.openMin ? v <= min : v < min) || v > max) throw bad(annotation, `${v} is out of range: use ${kind} ${opts.openMin ? 'above' : 'from'} ${min} ${opts.openMin ? 'and at most' : 'to'} ${max}`);
  return v;
}

/** True when the annotations ask for a device or sharing setting at all. */
export function hasDeviceAnnotations(annotations: Record<string, string> | undefined): boolean {
  return Object.values(DEVICE_ANNOTATIONS).some((a) => annotations?.[a] !== undefined);
}

export function readDeviceRequest(annotations: Record<string, string> | undefined): DeviceRequest {
  const a = annotations ?? {};
  const A = DEVICE_ANNOTATIONS;
  const device = (a[A.device]?.trim() || 'cpu') as DeviceKind;
  if (!['cpu', 'emulated', 'cuda'].includes(device)) throw bad(A.device, `"${a[A.device]}" is not a device: use cpu, emulated or cuda`);
  const quotaRequest = num(a[A.quotaRequest], A.quotaRequest, 0, 1);
  const quotaLimit = num(a[A.quotaLimit], A.quotaLimit, 0, 1, { openMin: true });
  if (quotaRequest !== undefined && quotaLimit !== undefined && quotaRequest > quotaLimit) {
    throw bad(A.quotaRequest, `${quotaRequest} is more than ${A.quotaLimit} (${quotaLimit}); the guaranteed quota cannot exceed the limit`);
  }
  const emulatedProfile = a[A.emulatedProfile]?.trim() || undefined;
  if (device === 'emulated' && !emulatedProfile) throw bad(A.emulatedProfile, 'the emulated device needs the calibrated model to behave like, e.g. "v100-resnet50"');
  const mem = a[A.memory];
  return {
    device,
    partitionPercent: num(a[A.partition], A.partition, 0, 100, { openMin: true }) ?? 100,
    memoryBytes: mem === undefined || mem.trim() === '' ? undefined : parseMemoryBytes(mem, `annotation ${A.memory}`),
    quotaRequest,
    quotaLimit,
    sloMs: num(a[A.sloMs], A.sloMs, 0, 3_600_000, { openMin: true }),
    maxBatch: num(a[A.maxBatch], A.maxBatch, 1, 1024, { whole: true }),
    emulatedProfile,
    cudaDevice: num(a[A.cudaDevice], A.cudaDevice, 0, 1024, { whole: true }) ?? 0,
  };
}
