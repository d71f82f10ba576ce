/**
 * Admission control wire types (`/system/tenants/<name>/limits`), shared by the gateway, the CLI
 * and the tests. A tenant's limits bound the sum over all its functions; `memoryBytes` counts
 * replicas × `limits.memory`, `deviceShare` counts replicas × fastgshare/gpu_quota_request ×
 * fastgshare/gpu_sm_partition / 100, in devices.
 */

export interface TenantLimits {
  /** Σ replicas over the tenant's functions. */
  replicas: number;
  /** Functions the tenant may have. */
  functions: number;
  /** Σ guaranteed device share, in devices (1 = one whole device's every time window). */
  deviceShare: number;
  /** Σ replicas × limits.memory, in bytes. */
  memoryBytes: number;
}

export const TENANT_LIMIT_KEYS = ['replicas', 'functions', 'deviceShare', 'memoryBytes'] as const;
export type TenantLimitKey = (typeof TENANT_LIMIT_KEYS)[number];

/** What GET/PUT /system/tenants/<name>/limits answer. */
export interface TenantLimitsInfo {
  tenant: string;
  /** The platform defaults (FASTGSHARE_TENANT_MAX_*). */
  defaults: TenantLimits;
  /** The admin's overrides for this tenant (only the limits that were set). */
  overrides: Partial<TenantLimits>;
  /** What applies: the overrides over the defaults. */
  effective: TenantLimits;
  /** What the tenant's functions hold now. */
  usage: TenantLimits;
  /** The hard per-function replica ceiling (FASTGSHARE_MAX_REPLICAS_PER_FUNCTION), for everyone. */
  maxReplicasPerFunction: number;
}
