/**
 * What the live auto-scaler reads from a stored function: whether it is managed (it has an SLO
 * annotation), its scheduler spec (model, device class, SLO, replica bounds) and the replica
 * configuration its annotations ask for now.
 *   fastgshare/slo_ms              latency objective → managed by the auto-scaler
 *   fastgshare/emulated_profile    profile key of an emulated function (else fastgshare/model, else the name)
 *   fastgshare/device              cpu | emulated | cuda → device class cpu | v100 | cuda
 *   com.openfaas.scale.min/max     replica bounds
 */
import { PlatformError } from '../../core/errors.ts';
import { V100_DEVICE_CLASS } from '../../core/profiles/calibration-profiles.ts';
import type { ReplicaConfig } from '../../core/profiles/profile-table.ts';
import { scaleBounds } from '../../gateway/control/scale-bounds.ts';
import type { FunctionSpec } from '../types.ts';

export const SLO_ANNOTATION = 'fastgshare/slo_ms';
export const MODEL_ANNOTATION = 'fastgshare/model';
export const EMULATED_PROFILE_ANNOTATION = 'fastgshare/emulated_profile';
export const DEVICE_ANNOTATION = 'fastgshare/device';
export const PARTITION_ANNOTATION = 'fastgshare/gpu_sm_partition';
export const QUOTA_REQUEST_ANNOTATION = 'fastgshare/gpu_quota_request';
export const MAX_BATCH_ANNOTATION = 'fastgshare/max_batch';

/** The stored fields the auto-scaler reads. */
export interface StoredFunctionView {
  name: string;
  namespace: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  replicas: number;
}

export interface LiveFunction {
  /** `name.namespace` (also the spec's name, so that namespaces never collide). */
  key: string;
  name: string;
  namespace: string;
  spec: FunctionSpec;
  /** The configuration the function's annotations ask for now. */
  config: ReplicaConfig;
  /** Replicas stored now. */
  replicas: number;
}

const DEVICE_CLASS: Record<string, string> = { cpu: 'cpu', emulated: V100_DEVICE_CLASS, cuda: 'cuda' };

/** The device kind (fastgshare/device) of a device class; the class itself when it is not one of ours. */
export function deviceKindOf(deviceClass: string): string {
  return Object.entries(DEVICE_CLASS).find(([, c]) => c === deviceClass)?.[0] ?? deviceClass;
}

function positive(raw: string | undefined, what: string, dflt: number): number {
  if (raw === undefined || raw.trim() === '') return dflt;
  const v = Number(raw.trim());
  if (!Number.isFinite(v) || v <= 0) throw new PlatformError('bad_request', `annotation ${what} must be a number above 0, got "${raw}"`, { details: { field: `annotations.${what}` } });
  return v;
}

/** The function as the scheduler sees it; undefined when it has no SLO (not managed). Throws bad_request on bad values. */
export function readLiveFunction(f: StoredFunctionView): LiveFunction | undefined {
  const a = f.annotations ?? {};
  if (a[SLO_ANNOTATION] === undefined || a[SLO_ANNOTATION].trim() === '') return undefined;
  const sloMs = positive(a[SLO_ANNOTATION], SLO_ANNOTATION, 0);
  const device = a[DEVICE_ANNOTATION]?.trim() || 'cpu';
  const deviceClass = DEVICE_CLASS[device];
  if (!deviceClass) throw new PlatformError('bad_request', `annotation ${DEVICE_ANNOTATION}: "${device}" is not a device: use cpu, emulated or cuda`, { details: { field: `annotations.${DEVICE_ANNOTATION}` } });
  const model = a[EMULATED_PROFILE_ANNOTATION]?.trim() || a[MODEL_ANNOTATION]?.trim() || f.name;
  const bounds = scaleBounds(f.labels ?? {});
  const key = `${f.name}.${f.namespace}`;
  const quota = positive(a[QUOTA_REQUEST_ANNOTATION], QUOTA_REQUEST_ANNOTATION, 1);
  return {
    key,
    name: f.name,
    namespace: f.namespace,
    spec: { name: key, model, deviceClass, sloMs, minReplicas: bounds.min, maxReplicas: bounds.max },
    config: {
      partitionPercent: Math.min(100, positive(a[PARTITION_ANNOTATION], PARTITION_ANNOTATION, 100)),
      quota: Math.min(1, quota),
      batch: Math.round(positive(a[MAX_BATCH_ANNOTATION], MAX_BATCH_ANNOTATION, 1)),
    },
    replicas: f.replicas,
  };
}

export const QUOTA_LIMIT_ANNOTATION = 'fastgshare/gpu_quota_limit';

/**
 * The annotation overrides that ask for `c` (partition, quota request, largest batch) of a
 * function whose own annotations are `current`: a replica group's annotations
 * (ApplyFunctionRequest.groups). A quota limit below the new request is raised to it (the agent
 * refuses request > limit).
 */
export function configOverrides(c: ReplicaConfig, current: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = { [PARTITION_ANNOTATION]: String(c.partitionPercent), [QUOTA_REQUEST_ANNOTATION]: String(c.quota), [MAX_BATCH_ANNOTATION]: String(c.batch) };
  const limit = Number(current[QUOTA_LIMIT_ANNOTATION]);
  if (current[QUOTA_LIMIT_ANNOTATION] !== undefined && Number.isFinite(limit) && limit < c.quota) out[QUOTA_LIMIT_ANNOTATION] = String(c.quota);
  return out;
}

export const EMULATED_DEVICE_ANNOTATION = 'fastgshare/emulated_device';
export const CUDA_DEVICE_ANNOTATION = 'fastgshare/cuda_device';

/** The annotation that names a device of `kind` on a node, for the kinds a replica group can name. */
export const DEVICE_INDEX_ANNOTATION: Readonly<Record<'emulated' | 'cuda', string>> = { emulated: EMULATED_DEVICE_ANNOTATION, cuda: CUDA_DEVICE_ANNOTATION };

export function sameConfig(a: ReplicaConfig, b: ReplicaConfig): boolean {
  return a.partitionPercent === b.partitionPercent && Math.abs(a.quota - b.quota) < 1e-9 && a.batch === b.batch;
}
