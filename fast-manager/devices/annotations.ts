/**
 * A deployment's device and sharing settings, read from its annotations (validated at deploy
 * time; a bad value is a 400 naming the annotation):
 *   fastgshare/device               cpu | emulated | cuda                       (default cpu)
 *   fastgshare/gpu_sm_partition     compute partition, percent from 1 to 100    (default 100)
 *                                   cpu: share of the node's cores; cuda: MPS active-thread %
 *   fastgshare/gpu_mem              device memory of one replica, e.g. "2Gi"    (cuda, emulated)
 *   fastgshare/gpu_quota_request    time quota per window the replica is guaranteed, 0..1
 *                                   (0 = best effort: no guarantee, runs when others leave time)
 *   fastgshare/gpu_quota_limit      time quota per window the replica may use at most, above 0
 *                                   and at most 1, not below the request (default 1 with a request)
 *   fastgshare/slo_ms               latency objective of one request, ms
 *   fastgshare/max_batch            largest batch the runtime forms, 1..1024
 *   fastgshare/emulated_profile     emulated: the calibrated model it behaves like (e.g. v100-resnet50)
 *   fastgshare/emulated_device      emulated: index of the node's emulated device, below the
 *                                   node's FASTGSHARE_EMULATED_DEVICES   (default 0)
 *   fastgshare/cuda_device          cuda: device id                             (default 0)
 *   fastgshare/model_sharing        on | off: replicas of one model on this node map one copy of
 *                                   its weights (cpu; see templates/onnx-node/runtime/model-cache.ts)
 *                                                                               (default on)
 * A deployment with none of these is not a model function: it runs as a plain process.
 *
 * This is the one parser of these annotations: the device launcher reads the whole request, the
 * token scheduler's share (sharing/share-config.ts) is derived from it, so both apply one rule for
 * ranges and defaults.
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
  emulatedDevice: 'fastgshare/emulated_device',
  modelSharing: 'fastgshare/model_sharing',
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
  /** Index of the node's emulated device (emulated; the device launcher checks it against the node's count). */
  emulatedDevice: number;
  /** Replicas of the model on this node share one copy of its weights. */
  modelSharing: boolean;
}

function bad(annotation: string, message: string): PlatformError {
  return new PlatformError('bad_request', `annotation ${annotation}: ${message}`, { details: { field: `annotations.${annotation}` } });
}

interface Range {
  min: number;
  max: number;
  whole?: boolean;
  /** min itself is out of range. */
  openMin?: boolean;
  /** What the number means, for the error message. */
  unit?: string;
}

function num(raw: string | undefined, annotation: string, r: Range): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const v = Number(raw.trim());
  const kind = r.whole ? 'a whole number' : 'a number';
  const range = `${kind} ${r.openMin ? 'above' : 'from'} ${r.min} ${r.openMin ? 'and at most' : 'to'} ${r.max}${r.unit ? ` (${r.unit})` : ''}`;
  if (!Number.isFinite(v) || (r.whole && !Number.isInteger(v))) throw bad(annotation, `"${raw}" is not ${kind}; use ${range}`);
  if ((r.openMin ? v <= r.min : v < r.min) || v > r.max) throw bad(annotation, `${v} is out of range; use ${range}`);
  return v;
}

/** The one rule for each numeric annotation. */
export const ANNOTATION_RANGES = {
  quotaRequest: { min: 0, max: 1, unit: 'fraction of each time window; 0 = best effort' },
  quotaLimit: { min: 0, max: 1, openMin: true, unit: 'fraction of each time window' },
  partition: { min: 1, max: 100, unit: 'percent of the device' },
  sloMs: { min: 0, max: 3_600_000, openMin: true, unit: 'ms' },
  maxBatch: { min: 1, max: 1024, whole: true },
  cudaDevice: { min: 0, max: 1024, whole: true },
  emulatedDevice: { min: 0, max: 63, whole: true, unit: "index of the node's emulated device" },
} satisfies Record<string, Range>;

/** True when the annotations ask for a device or sharing setting at all. */
export function hasDeviceAnnotations(annotations: Record<string, string> | undefined): boolean {
  return Object.values(DEVICE_ANNOTATIONS).some((a) => annotations?.[a] !== undefined);
}

export function readDeviceRequest(annotations: Record<string, string> | undefined): DeviceRequest {
  const a = annotations ?? {};
  const A = DEVICE_ANNOTATIONS;
  const R = ANNOTATION_RANGES;
  const device = readDeviceKind(a);
  const quotaRequest = num(a[A.quotaRequest], A.quotaRequest, R.quotaRequest);
  const quotaLimit = num(a[A.quotaLimit], A.quotaLimit, R.quotaLimit);
  if (quotaLimit !== undefined && quotaLimit < (quotaRequest ?? 0)) {
    throw bad(A.quotaLimit, `${quotaLimit} is below ${A.quotaRequest} (${quotaRequest}); use a limit from the request to 1 (the guaranteed quota cannot exceed the limit)`);
  }
  const emulatedProfile = a[A.emulatedProfile]?.trim() || undefined;
  if (device === 'emulated' && !emulatedProfile) throw bad(A.emulatedProfile, 'the emulated device needs the calibrated model to behave like, e.g. "v100-resnet50"');
  const mem = a[A.memory];
  return {
    device,
    partitionPercent: num(a[A.partition], A.partition, R.partition) ?? 100,
    memoryBytes: mem === undefined || mem.trim() === '' ? undefined : parseMemoryBytes(mem, `annotation ${A.memory}`),
    quotaRequest,
    quotaLimit,
    sloMs: num(a[A.sloMs], A.sloMs, R.sloMs),
    maxBatch: num(a[A.maxBatch], A.maxBatch, R.maxBatch),
    emulatedProfile,
    cudaDevice: num(a[A.cudaDevice], A.cudaDevice, R.cudaDevice) ?? 0,
    emulatedDevice: num(a[A.emulatedDevice], A.emulatedDevice, R.emulatedDevice) ?? 0,
    modelSharing: readOnOff(a[A.modelSharing], A.modelSharing, true),
  };
}

function readOnOff(raw: string | undefined, annotation: string, dflt: boolean): boolean {
  const v = raw?.trim().toLowerCase();
  if (v === undefined || v === '') return dflt;
  if (['on', 'true', '1', 'yes'].includes(v)) return true;
  if (['off', 'false', '0', 'no'].includes(v)) return false;
  throw bad(annotation, `"${raw}" is neither on nor off; use "on" (replicas share one copy of the model's weights) or "off" (each loads its own)`);
}

function readDeviceKind(a: Record<string, string>): DeviceKind {
  const device = (a[DEVICE_ANNOTATIONS.device]?.trim() || 'cpu') as DeviceKind;
  if (!['cpu', 'emulated', 'cuda'].includes(device)) throw bad(DEVICE_ANNOTATIONS.device, `"${a[DEVICE_ANNOTATIONS.device]}" is not a device: use cpu, emulated or cuda`);
  return device;
}

/** The token scheduler's id of emulated device `index`: "emulated" for 0 (the node's first), "emulated:<i>" after it. */
export function emulatedDeviceId(index: number): string {
  return index === 0 ? 'emulated' : `emulated:${index}`;
}

/** The token scheduler's id of GPU `index`. */
export function cudaDeviceId(index: number): string {
  return `cuda:${index}`;
}

/**
 * The token scheduler's device id: one for the node's cores ("cpu"), one per emulated device
 * ("emulated", "emulated:1", …; fastgshare/emulated_device), one per GPU ("cuda:0";
 * fastgshare/cuda_device). Reads only the device annotations (the rest is checked by
 * readDeviceRequest).
 */
export function readDeviceId(annotations: Record<string, string> | undefined): string {
  const a = annotations ?? {};
  const A = DEVICE_ANNOTATIONS;
  const device = readDeviceKind(a);
  if (device === 'cuda') return cudaDeviceId(num(a[A.cudaDevice], A.cudaDevice, ANNOTATION_RANGES.cudaDevice) ?? 0);
  if (device === 'emulated') return emulatedDeviceId(num(a[A.emulatedDevice], A.emulatedDevice, ANNOTATION_RANGES.emulatedDevice) ?? 0);
  return device;
}
