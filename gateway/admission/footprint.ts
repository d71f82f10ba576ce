/**
 * What one replica of a function reserves, read from its deployment with the parsers the node
 * agent uses too (core/contracts/annotations.ts, core/contracts/quantity.ts), so admission and
 * the node apply one rule for ranges and defaults; every fastgshare/* annotation is checked here,
 * so a bad one is a 400 at deploy time before anything is stored:
 *   guaranteed device share = fastgshare/gpu_quota_request × fastgshare/gpu_sm_partition / 100
 *     (in devices; 0 without a quota request: best effort is not a guarantee)
 *   memory                  = limits.memory (0 when the deployment sets none)
 * on the device the annotations pick (cpu, emulated:<i>, cuda:<i>).
 */
import { readDeviceId, readFunctionAnnotations } from '../../core/contracts/annotations.ts';
import { parseMemoryBytes } from '../../core/contracts/quantity.ts';

/** A function as admission sees it: a stored one, or a deployment about to be stored. */
export interface AdmissionFunction {
  name: string;
  namespace: string;
  annotations: Record<string, string>;
  /** The deployment's `limits` ({memory, cpu}); only memory counts. */
  limits?: unknown;
  replicas: number;
}

export interface ReplicaShare {
  /** The token scheduler's device id on a node ("cpu", "emulated:1", "cuda:0"). */
  deviceId: string;
  /** Guaranteed share of that device per replica, in devices (0..1). */
  share: number;
}

/** The device and guaranteed share of one replica with these annotations; a 400 naming a bad annotation. */
export function replicaShare(annotations: Record<string, string>): ReplicaShare {
  const r = readFunctionAnnotations(annotations);
  return { deviceId: readDeviceId(annotations), share: (r.quotaRequest ?? 0) * (r.partitionPercent / 100) };
}

/** Bytes of limits.memory of one replica (0 when none is set); a 400 naming the field when it is not a quantity. */
export function replicaMemory(limits: unknown): number {
  if (!limits || typeof limits !== 'object') return 0;
  const memory = (limits as { memory?: unknown }).memory;
  if (memory === undefined || memory === null || memory === '') return 0;
  return parseMemoryBytes(memory, 'limits.memory');
}
