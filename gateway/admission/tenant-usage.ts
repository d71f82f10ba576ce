/**
 * What a tenant's functions hold, in the units of its limits: functions, Σ replicas,
 * Σ replicas × guaranteed device share, Σ replicas × limits.memory.
 */
import type { TenantLimits } from '../../core/contracts/admission.ts';
import { replicaMemory, replicaShare, type AdmissionFunction } from './footprint.ts';

export function tenantUsage(functions: readonly AdmissionFunction[]): TenantLimits {
  const u: TenantLimits = { replicas: 0, functions: 0, deviceShare: 0, memoryBytes: 0 };
  for (const f of functions) {
    u.functions += 1;
    u.replicas += f.replicas;
    u.deviceShare += f.replicas * replicaShare(f.annotations).share;
    u.memoryBytes += f.replicas * replicaMemory(f.limits);
  }
  return u;
}
