/**
 * Tenants in the store. A tenant owns namespaces (created with it when missing; never shared
 * with another tenant, never the default namespace) and one password, kept only as a bcrypt
 * hash, hashed and checked on the password threads (password-hasher.ts). `verify` answers from
 * a short-lived, bounded cache (lru-cache) of digests of credentials already checked, so
 * invocations do not pay bcrypt's cost on every call; rotating or removing a tenant through this
 * gateway drops its entries at once (other gateways within `cacheTtlMs`). Every rejection costs
 * one bcrypt check: an unknown user is checked against a dummy hash.
 */
import { createHash, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Models } from '../../core/store/models.ts';
import type { Clock } from '../../core/clock.ts';
import { PlatformError } from '../../core/errors.ts';
import { DEFAULT_NAMESPACE, validateNamespace } from '../../core/names.ts';
import type { Namespaces } from '../control/namespaces.ts';
import type { TenantPrincipal } from './principal.ts';
import type { PasswordHasher } from './password-hasher.ts';

export type { IssuedCredentials, TenantInfo } from '../../core/contracts/tenants.ts';
import type { IssuedCredentials, TenantInfo } from '../../core/contracts/tenants.ts';

export interface TenantStore {
  create(req: { name: string; namespaces?: string[]; password?: string }): Promise<IssuedCredentials>;
  list(): Promise<TenantInfo[]>;
  get(name: string): Promise<TenantInfo>;
  remove(name: string): Promise<void>;
  rotate(name: string, password?: string): Promise<IssuedCredentials>;
  /** The tenant these credentials belong to, or undefined (unknown user or wrong password). */
  verify(user: string, password: string): Promise<TenantPrincipal | undefined>;
  /** The tenant as it is now (its namespaces), without credentials; undefined when it is gone. */
  principal(name: string): Promise<TenantPrincipal | undefined>;
  /** Namespace → tenant name, for reports. */
  owners(): Promise<Map<string, string>>;
}

const TENANT_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const MIN_PASSWORD = 12;

export function validateTenantName(raw: unknown): string {
  if (typeof raw !== 'string' || !TENANT_NAME.test(raw)) {
    throw new PlatformError(
      'invalid_name',
      `tenant name ${JSON.stringify(raw)} is not valid: use 1-63 lower-case letters, digits and '-' (no dots), starting and ending with a letter or digit`,
      { details: { field: 'name' } },
    );
  }
  return raw;
}

function checkPassword(p: unknown): string {
  if (typeof p !== 'string' || p.length < MIN_PASSWORD || p.length > 72 || /[\s]/.test(p)) {
    throw new PlatformError(
      'bad_request',
      `password must be ${MIN_PASSWORD}-72 characters without spaces (bcrypt reads at most 72 bytes); leave it out to have one generated`,
      { details: { field: 'password' } },
    );
  }
  if (Buffer.byteLength(p, 'utf8') > 72)
    throw new PlatformError('bad_request', 'password must be at most 72 bytes in UTF-8', {
      details: { field: 'password' },
    });
  return p;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest('base64');

export interface TenantStoreDeps {
  models: Models;
  namespaces: Namespaces;
  clock: Clock;
  hasher: PasswordHasher;
  /** The tenant's API keys, removed before the tenant (and any stray ones before a tenant of that name is created). */
  keys?: { removeAll(tenant: string): Promise<void> };
  cacheTtlMs?: number;
}

export function createTenantStore(d: TenantStoreDeps): TenantStore {
  const { Tenant } = d.models;
  const ttl = d.cacheTtlMs ?? 30_000;
  const verified = new LRUCache<string, { principal: TenantPrincipal; expires: number }>({ max: 10_000 });
  const forget = (name: string) => {
    for (const [k, v] of verified.entries()) if (v.principal.name === name) verified.delete(k);
  };
  const notFound = (name: string) =>
    new PlatformError(
      'not_found',
      `tenant "${name}" not found; list tenants with GET /system/tenants (fastgshare tenant list)`,
    );
  const info = (t: { name: string; namespaces?: string[] | null; createdAt?: Date | null }): TenantInfo => ({
    name: t.name,
    namespaces: [...(t.namespaces ?? [])],
    createdAt: t.createdAt?.toISOString(),
  });
  const issue = (t: TenantInfo, password: string, generated: boolean): IssuedCredentials => ({
    ...t,
    username: t.name,
    password,
    generated,
  });
  const newPassword = () => randomBytes(24).toString('base64url');

  return {
    async create(req) {
      const name = validateTenantName(req.name);
      const wanted = req.namespaces === undefined ? [name] : req.namespaces;
      if (!Array.isArray(wanted) || wanted.length === 0)
        throw new PlatformError(
          'bad_request',
          'namespaces must be a non-empty list of namespace names (default: the tenant name)',
          { details: { field: 'namespaces' } },
        );
      const namespaces = [...new Set(wanted.map((n) => validateNamespace(n, 'namespaces')))];
      if (namespaces.includes(DEFAULT_NAMESPACE))
        throw new PlatformError(
          'bad_request',
          `the default namespace "${DEFAULT_NAMESPACE}" cannot belong to a tenant; give the tenant its own namespaces`,
          { details: { field: 'namespaces' } },
        );
      const generated = req.password === undefined;
      const password = generated ? newPassword() : checkPassword(req.password);
      if (await Tenant.exists({ name }))
        throw new PlatformError(
          'conflict',
          `tenant "${name}" already exists; rotate its credentials with POST /system/tenants/${name}/rotate`,
        );
      const taken = await Tenant.findOne({ namespaces: { $in: namespaces } }, { name: 1, namespaces: 1 }).lean();
      if (taken) {
        const ns = namespaces.find((n) => taken.namespaces?.includes(n));
        throw new PlatformError('conflict', `namespace "${ns}" already belongs to tenant "${taken.name}"`, {
          details: { field: 'namespaces' },
        });
      }
      for (const ns of namespaces) {
        try {
          await d.namespaces.create({ name: ns, labels: {}, annotations: { 'fastgshare/tenant': name } });
        } catch (err) {
          if (!(err instanceof PlatformError && err.code === 'conflict')) throw err;
        }
      }
      const passwordHash = await d.hasher.hash(password);
      await d.keys?.removeAll(name); // a key left by an earlier tenant of this name must not come back
      let doc;
      try {
        doc = await Tenant.create({ name, namespaces, passwordHash });
      } catch (err) {
        if ((err as { code?: number }).code === 11000)
          throw new PlatformError('conflict', `tenant "${name}" already exists`);
        throw err;
      }
      return issue(info(doc), password, generated);
    },
    async list() {
      return (await Tenant.find({}, { name: 1, namespaces: 1, createdAt: 1 }).sort({ name: 1 }).lean()).map(info);
    },
    async get(name) {
      const t = await Tenant.findOne(
        { name: validateTenantName(name) },
        { name: 1, namespaces: 1, createdAt: 1 },
      ).lean();
      if (!t) throw notFound(name);
      return info(t);
    },
    async remove(name) {
      validateTenantName(name);
      await d.keys?.removeAll(name);
      const r = await Tenant.deleteOne({ name });
      forget(name);
      if (r.deletedCount === 0) throw notFound(name);
    },
    async rotate(name, password) {
      validateTenantName(name);
      const generated = password === undefined;
      const pw = generated ? newPassword() : checkPassword(password);
      const passwordHash = await d.hasher.hash(pw);
      const t = await Tenant.findOneAndUpdate(
        { name },
        { $set: { passwordHash }, $inc: { credentialVersion: 1 } },
        { returnDocument: 'after' },
      ).lean();
      forget(name);
      if (!t) throw notFound(name);
      return issue(info(t), pw, generated);
    },
    async verify(user, password) {
      const key = digest(`${user}\u0000${password}`);
      const now = d.clock.now();
      const hit = verified.get(key);
      if (hit && hit.expires > now) return hit.principal;
      if (hit) verified.delete(key);
      const t = TENANT_NAME.test(user)
        ? await Tenant.findOne({ name: user }, { name: 1, namespaces: 1, passwordHash: 1 }).lean()
        : null;
      const ok = t ? await d.hasher.verify(password, t.passwordHash) : await d.hasher.verifyDummy(password);
      if (!t || !ok) return undefined;
      const principal: TenantPrincipal = { kind: 'tenant', name: t.name, namespaces: [...(t.namespaces ?? [])] };
      verified.set(key, { principal, expires: now + ttl });
      return principal;
    },
    async principal(name) {
      if (!TENANT_NAME.test(name)) return undefined;
      const t = await Tenant.findOne({ name }, { name: 1, namespaces: 1 }).lean();
      return t ? { kind: 'tenant', name: t.name, namespaces: [...(t.namespaces ?? [])] } : undefined;
    },
    async owners() {
      const out = new Map<string, string>();
      for (const t of await Tenant.find({}, { name: 1, namespaces: 1 }).lean())
        for (const ns of t.namespaces ?? []) out.set(ns, t.name);
      return out;
    },
  };
}
