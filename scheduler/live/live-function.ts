/**
 * What the live auto-scaler reads from a stored function: whether it is managed (it has an SLO
 * annotation), its scheduler spec (model, device class, SLO, replica bounds) and the replica
 * configuration its annotations ask for now, all through the one annotation parser
 * (core/contracts/annotations.ts: a bad value is an error naming it, never clamped):
 *   fastgshare/slo_ms              latency objective → managed by the auto-scaler
 *   fastgshare/emulated_profile    profile key of an emulated function (else fastgshare/model, else the name)
 *   fastgshare/device              device kind cpu | emulated | cuda → device class cpu | v100 | cuda
 *   com.openfaas.scale.min/max     replica bounds
 */
import { ANNOTATIONS, readFunctionAnnotations } from '../../core/contracts/annotations.ts';
import { deviceClassOf } from '../../core/contracts/devices.ts';
import { scaleBounds } from '../../core/contracts/scale-bounds.ts';
import type { ReplicaConfig } from '../../core/profiles/profile-table.ts';
import type { FunctionSpec } from '../types.ts';

const PARTITION_ANNOTATION = ANNOTATIONS.partition;
const QUOTA_REQUEST_ANNOTATION = ANNOTATIONS.quotaRequest;
const MAX_BATCH_ANNOTATION = ANNOTATIONS.maxBatch;
const QUOTA_LIMIT_ANNOTATION = ANNOTATIONS.quotaLimit;

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

/**
 * The function as the scheduler sees it; undefined when it has no SLO (not managed). Throws bad_request on bad values.
 */
export function readLiveFunction(f: StoredFunctionView): LiveFunction | undefined {
  const a = readFunctionAnnotations(f.annotations);
  if (a.sloMs === undefined) return undefined;
  const model = a.emulatedProfile ?? a.model ?? f.name;
  const bounds = scaleBounds(f.labels ?? {});
  const key = `${f.name}.${f.namespace}`;
  return {
    key,
    name: f.name,
    namespace: f.namespace,
    spec: {
      name: key,
      model,
      deviceClass: deviceClassOf(a.device),
      sloMs: a.sloMs,
      minReplicas: bounds.min,
      maxReplicas: bounds.max,
    },
    config: { partitionPercent: a.partitionPercent, quota: a.quotaRequest ?? 1, batch: a.maxBatch ?? 1 },
    replicas: f.replicas,
  };
}

/**
 * The annotation overrides that ask for `c` (partition, quota request, largest batch) of a
 * function whose own annotations are `current`: a replica group's annotations
 * (ApplyFunctionRequest.groups). A quota limit below the new request is raised to it (the agent
 * refuses request > limit).
 */
export function configOverrides(c: ReplicaConfig, current: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {
    [PARTITION_ANNOTATION]: String(c.partitionPercent),
    [QUOTA_REQUEST_ANNOTATION]: String(c.quota),
    [MAX_BATCH_ANNOTATION]: String(c.batch),
  };
  const limit = Number(current[QUOTA_LIMIT_ANNOTATION]);
  if (current[QUOTA_LIMIT_ANNOTATION] !== undefined && Number.isFinite(limit) && limit < c.quota)
    out[QUOTA_LIMIT_ANNOTATION] = String(c.quota);
  return out;
}

/** The annotation that names a device of `kind` on a node, for the kinds a replica group can name. */
export const DEVICE_INDEX_ANNOTATION: Readonly<Record<'emulated' | 'cuda', string>> = {
  emulated: ANNOTATIONS.emulatedDevice,
  cuda: ANNOTATIONS.cudaDevice,
};

export function sameConfig(a: ReplicaConfig, b: ReplicaConfig): boolean {
  return a.partitionPercent === b.partitionPercent && Math.abs(a.quota - b.quota) < 1e-9 && a.batch === b.batch;
}
