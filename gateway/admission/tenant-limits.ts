/**
 * A tenant's limits: the platform defaults (FASTGSHARE_TENANT_MAX_*) with the admin's overrides
 * laid over them. Overrides live in the `limits` field of the tenant's record, so they go with
 * the tenant when it is removed. A PUT sets the limits it names and clears those given as null.
 */
import type { TenantLimitKey, TenantLimits } from '../../core/contracts/admission.ts';
import { TENANT_LIMIT_KEYS } from '../../core/contracts/admission.ts';
import { PlatformError } from '../../core/errors.ts';
import type { Models } from '../../core/store/models.ts';
import { parseMemoryBytes } from '../../core/contracts/quantity.ts';

export interface TenantOwner {
  name: string;
  namespaces: string[];
  overrides: Partial<TenantLimits>;
}

export interface TenantLimitsStore {
  /** The tenant that owns `namespace`; undefined when none does (the admin's namespaces). */
  ownerOf(namespace: string): Promise<TenantOwner | undefined>;
  /** A tenant by name; a 404 when unknown. */
  get(tenant: string): Promise<TenantOwner>;
  /** Applies a validated change; answers the overrides after it. */
  update(tenant: string, change: LimitsChange): Promise<Partial<TenantLimits>>;
}

/** Limits to set, and limits to clear (back to the default). */
export interface LimitsChange {
  set: Partial<TenantLimits>;
  clear: TenantLimitKey[];
}

export const MAX_LIMIT = 100_000;

export function effectiveLimits(defaults: TenantLimits, overrides: Partial<TenantLimits>): TenantLimits {
  return { ...defaults, ...overrides };
}

/** Overrides as stored; anything that is not a known limit with a usable number is ignored. */
export function readOverrides(raw: unknown): Partial<TenantLimits> {
  const out: Partial<TenantLimits> = {};
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return out;
  for (const k of TENANT_LIMIT_KEYS) {
    const v = (raw as Record<string, unknown>)[k];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) out[k] = v;
  }
  return out;
}

const bad = (field: string, message: string) =>
  new PlatformError('bad_request', `tenant limits: ${field} ${message}`, { details: { field } });

function whole(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_LIMIT)
    throw bad(field, `must be a whole number from 0 to ${MAX_LIMIT}, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * The body of PUT /system/tenants/<name>/limits: {replicas?, functions?, deviceShare?, memory?}
 * (memory: a quantity such as "16Gi", or bytes; memoryBytes is taken too); null clears a limit.
 */
export function parseLimitsChange(body: unknown): LimitsChange {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new PlatformError(
      'bad_request',
      'tenant limits: the body must be a JSON object such as {"replicas": 40, "functions": 30, "deviceShare": 2, "memory": "16Gi"}; null clears a limit',
    );
  const b = body as Record<string, unknown>;
  const allowed = ['replicas', 'functions', 'deviceShare', 'memory', 'memoryBytes'];
  for (const k of Object.keys(b)) if (!allowed.includes(k)) throw bad(k, `is not a limit; use ${allowed.join(', ')}`);
  if (b.memory !== undefined && b.memoryBytes !== undefined)
    throw bad('memory', 'and memoryBytes both given; give one');
  const change: LimitsChange = { set: {}, clear: [] };
  const take = (k: TenantLimitKey, raw: unknown, parse: (v: unknown) => number) => {
    if (raw === undefined) return;
    if (raw === null) change.clear.push(k);
    else change.set[k] = parse(raw);
  };
  take('replicas', b.replicas, (v) => whole('replicas', v));
  take('functions', b.functions, (v) => whole('functions', v));
  take('deviceShare', b.deviceShare, (v) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_LIMIT)
      throw bad(
        'deviceShare',
        `must be a number of devices from 0 to ${MAX_LIMIT} (e.g. 1.5), got ${JSON.stringify(v)}`,
      );
    return v;
  });
  const mem =
    b.memory !== undefined ? { field: 'memory', raw: b.memory } : { field: 'memoryBytes', raw: b.memoryBytes };
  take('memoryBytes', mem.raw, (v) => {
    if (typeof v === 'number') {
      if (!Number.isInteger(v) || v < 0 || v > 2 ** 50)
        throw bad(mem.field, `must be a whole number of bytes from 0 to 2^50, or a quantity such as "16Gi", got ${v}`);
      return v;
    }
    const bytes = parseMemoryBytes(v, `tenant limits: ${mem.field}`);
    if (bytes > 2 ** 50) throw bad(mem.field, 'is too large (at most 1Pi)');
    return bytes;
  });
  if (Object.keys(change.set).length === 0 && change.clear.length === 0)
    throw new PlatformError(
      'bad_request',
      'tenant limits: give at least one of replicas, functions, deviceShare, memory (null clears one)',
    );
  return change;
}

export function createTenantLimitsStore(models: Models): TenantLimitsStore {
  const { Tenant } = models;
  const owner = (t: { name: string; namespaces?: string[] | null; limits?: unknown }): TenantOwner => ({
    name: t.name,
    namespaces: [...(t.namespaces ?? [])],
    overrides: readOverrides(t.limits),
  });
  return {
    async ownerOf(namespace) {
      const t = await Tenant.findOne({ namespaces: namespace }, { name: 1, namespaces: 1, limits: 1 }).lean();
      return t ? owner(t) : undefined;
    },
    async get(tenant) {
      const t =
        typeof tenant === 'string'
          ? await Tenant.findOne({ name: tenant }, { name: 1, namespaces: 1, limits: 1 }).lean()
          : null;
      if (!t)
        throw new PlatformError(
          'not_found',
          `tenant "${tenant}" not found; list tenants with GET /system/tenants (fastgshare tenant list)`,
        );
      return owner(t);
    },
    async update(tenant, change) {
      const current = await this.get(tenant);
      const next: Partial<TenantLimits> = { ...current.overrides, ...change.set };
      for (const k of change.clear) delete next[k];
      const r = await Tenant.updateOne({ name: current.name }, { $set: { limits: next } });
      if (r.matchedCount === 0) throw new PlatformError('not_found', `tenant "${tenant}" was removed meanwhile`);
      return next;
    },
  };
}
