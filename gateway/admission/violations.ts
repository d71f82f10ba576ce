/**
 * Limits compared before and after a change. A total over its limit refuses the change only when
 * the change raises it: scaling down, or changing something else, stays possible on a tenant or a
 * node that is already over (after an admin lowered a limit, say).
 */
import type { TenantLimitKey, TenantLimits } from '../../core/contracts/admission.ts';
import type { NodeUsage } from './node-usage.ts';

export type LimitUnit = 'replicas' | 'functions' | 'devices' | 'bytes';

export interface Violation {
  /**
   * Which limit: tenant.replicas, tenant.functions, tenant.deviceShare, tenant.memoryBytes, function.replicas,
   * node.deviceShare, node.memoryBytes.
   */
  limit: string;
  /** What it binds, for people: `tenant "alice"`, `node "n1" device "cpu"`. */
  scope: string;
  /** The limit's value. */
  value: number;
  /** The total the change asks for. */
  requested: number;
  /** The total now. */
  current: number;
  unit: LimitUnit;
  /** How to get more. */
  remedy: string;
}

/** Sums of shares are floats (0.1 + 0.2): compare with a tolerance far below any annotation's precision. */
const EPS = 1e-9;

export const exceeds = (value: number, requested: number, current: number): boolean =>
  requested > value + EPS && requested > current + EPS;

const TENANT_UNITS: Record<TenantLimitKey, LimitUnit> = {
  replicas: 'replicas',
  functions: 'functions',
  deviceShare: 'devices',
  memoryBytes: 'bytes',
};
/** The `fastgshare tenant limits` flag of each limit. */
export const TENANT_LIMIT_FLAGS: Record<TenantLimitKey, string> = {
  replicas: '--replicas',
  functions: '--functions',
  deviceShare: '--device-share',
  memoryBytes: '--memory',
};

export function tenantViolations(
  tenant: string,
  limits: TenantLimits,
  before: TenantLimits,
  after: TenantLimits,
  formatValue: (unit: LimitUnit, v: number) => string,
): Violation[] {
  const out: Violation[] = [];
  for (const key of Object.keys(TENANT_UNITS) as TenantLimitKey[]) {
    if (!exceeds(limits[key], after[key], before[key])) continue;
    const unit = TENANT_UNITS[key];
    out.push({
      limit: `tenant.${key}`,
      scope: `tenant "${tenant}"`,
      value: limits[key],
      requested: after[key],
      current: before[key],
      unit,
      remedy: `free some (scale down or remove functions) or ask the platform admin to raise it: fastgshare tenant limits ${tenant} ${TENANT_LIMIT_FLAGS[key]} ${formatValue(unit, after[key])} (PUT /system/tenants/${tenant}/limits)`,
    });
  }
  return out;
}

/** Per node, a name for messages and its memory when known. */
export interface NodeCapacity {
  name: string;
  memoryBytes?: number;
}

/** Each device of a node holds at most 1 device of guaranteed share; each node's Σ limits.memory at most its memory. */
export function nodeViolations(
  capacity: ReadonlyMap<string, NodeCapacity>,
  before: ReadonlyMap<string, NodeUsage>,
  after: ReadonlyMap<string, NodeUsage>,
): Violation[] {
  const out: Violation[] = [];
  for (const [url, a] of after) {
    const b = before.get(url);
    const name = capacity.get(url)?.name ?? url;
    for (const [device, share] of a.devices) {
      const now = b?.devices.get(device) ?? 0;
      if (!exceeds(1, share, now)) continue;
      out.push({
        limit: 'node.deviceShare',
        scope: `node "${name}" device "${device}"`,
        value: 1,
        requested: share,
        current: now,
        unit: 'devices',
        remedy:
          'the guarantees of all tenants on one device cannot add up to more than the whole device: lower fastgshare/gpu_quota_request or fastgshare/gpu_sm_partition, use fewer replicas or another device (fastgshare/emulated_device, fastgshare/cuda_device), or ask the platform admin to add a node',
      });
    }
    const mem = capacity.get(url)?.memoryBytes;
    if (mem !== undefined && exceeds(mem, a.memoryBytes, b?.memoryBytes ?? 0)) {
      out.push({
        limit: 'node.memoryBytes',
        scope: `node "${name}" memory`,
        value: mem,
        requested: a.memoryBytes,
        current: b?.memoryBytes ?? 0,
        unit: 'bytes',
        remedy:
          "the memory limits of all tenants' replicas on a node cannot add up to more than its memory: lower limits.memory, use fewer replicas, or ask the platform admin to add a node",
      });
    }
  }
  return out;
}
