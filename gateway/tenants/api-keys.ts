/**
 * Invoke-only API keys of tenants. A key reads `fgk_<id>_<secret>`: `id` (16 hex digits) is its
 * public name, `secret` 32 random bytes (256 bits, base64url). The store keeps the id, the tenant
 * and SHA-256(secret) — never the key. A fast hash is the right one here, unlike for passwords:
 * a slow KDF exists to make guessing a low-entropy secret from its hash expensive, and nobody
 * guesses 2^256 values however cheap each one is; a fast hash also lets every invocation check
 * its key in microseconds, on the event loop, without keeping plaintext keys in a cache.
 *
 * `verify` answers from a short-lived cache of key records (a revocation through this gateway
 * drops its entry at once; other gateways see it within `cacheTtlMs`); unknown ids are cached
 * too, so random keys cannot make every call a store query. The comparison is constant-time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Models } from '../../core/store/models.ts';
import type { Clock } from '../../core/clock.ts';
import { PlatformError } from '../../core/errors.ts';
import type { ApiKeyInfo, IssuedApiKey } from '../../core/contracts/tenants.ts';
import type { TenantPrincipal } from './principal.ts';

export const API_KEY_PREFIX = 'fgk_';
const KEY = /^fgk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const KEY_ID = /^[0-9a-f]{16}$/;
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
/** Keys one tenant may hold at once. */
export const MAX_KEYS_PER_TENANT = 100;

export interface ApiKeyStore {
  create(tenant: string, name?: string): Promise<IssuedApiKey>;
  list(tenant: string): Promise<ApiKeyInfo[]>;
  revoke(tenant: string, id: string): Promise<void>;
  /** Removes every key of a tenant (the tenant is being removed). */
  removeAll(tenant: string): Promise<void>;
  /** The tenant a presented key belongs to, or undefined (malformed, unknown, revoked or wrong). */
  verify(key: string): Promise<TenantPrincipal | undefined>;
}

/** Whether a bearer token has the shape of an API key (only such tokens are looked up). */
export function looksLikeApiKey(token: string): boolean {
  return token.startsWith(API_KEY_PREFIX);
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

interface Entry {
  at: number;
  value: Promise<{ secretHash: Buffer; principal: TenantPrincipal } | null>;
}

export function createApiKeyStore(d: {
  models: Models;
  clock: Clock;
  cacheTtlMs?: number;
  maxCached?: number;
}): ApiKeyStore {
  const { TenantKey, Tenant } = d.models;
  const ttl = d.cacheTtlMs ?? 30_000;
  const cache = new LRUCache<string, Entry>({ max: d.maxCached ?? 20_000 });
  const info = (k: { keyId: string; tenant: string; name?: string | null; createdAt?: Date | null }): ApiKeyInfo => ({
    id: k.keyId,
    tenant: k.tenant,
    name: k.name ?? '',
    createdAt: k.createdAt?.toISOString(),
  });
  const notFound = (tenant: string, id: string) =>
    new PlatformError(
      'not_found',
      `tenant "${tenant}" has no API key "${id}"; list its keys with fastgshare tenant key list`,
    );

  const load = async (id: string) => {
    const k = await TenantKey.findOne({ keyId: id }, { tenant: 1, secretHash: 1 }).lean();
    if (!k) return null;
    const t = await Tenant.findOne({ name: k.tenant }, { name: 1, namespaces: 1 }).lean();
    if (!t) return null;
    return {
      secretHash: Buffer.from(k.secretHash, 'hex'),
      principal: { kind: 'tenant' as const, name: t.name, namespaces: [...(t.namespaces ?? [])] },
    };
  };

  return {
    async create(tenant, name) {
      if (name !== undefined && (typeof name !== 'string' || !KEY_NAME.test(name))) {
        throw new PlatformError(
          'bad_request',
          `key name ${JSON.stringify(name)} is not valid: use 1-63 letters, digits, '_', '.' or '-', or leave it out`,
          { details: { field: 'name' } },
        );
      }
      if (!(await Tenant.exists({ name: tenant })))
        throw new PlatformError('not_found', `tenant "${tenant}" not found; list tenants with fastgshare tenant list`);
      if ((await TenantKey.countDocuments({ tenant })) >= MAX_KEYS_PER_TENANT) {
        throw new PlatformError(
          'conflict',
          `tenant "${tenant}" already has ${MAX_KEYS_PER_TENANT} API keys; revoke unused ones first (fastgshare tenant key revoke ID)`,
        );
      }
      const id = randomBytes(8).toString('hex');
      const secret = randomBytes(32).toString('base64url');
      const doc = await TenantKey.create({
        keyId: id,
        tenant,
        name: name ?? '',
        secretHash: sha256(secret).toString('hex'),
      });
      cache.delete(id);
      return { ...info(doc), key: `${API_KEY_PREFIX}${id}_${secret}` };
    },
    async list(tenant) {
      return (
        await TenantKey.find({ tenant }, { keyId: 1, tenant: 1, name: 1, createdAt: 1 })
          .sort({ createdAt: 1, keyId: 1 })
          .lean()
      ).map(info);
    },
    async revoke(tenant, id) {
      if (typeof id !== 'string' || !KEY_ID.test(id))
        throw new PlatformError(
          'bad_request',
          `"${String(id).slice(0, 64)}" is not an API key id: give the 16 hex digits shown by fastgshare tenant key list`,
          { details: { field: 'id' } },
        );
      const r = await TenantKey.deleteOne({ keyId: id, tenant });
      cache.delete(id);
      if (r.deletedCount === 0) throw notFound(tenant, id);
    },
    async removeAll(tenant) {
      const ids = (await TenantKey.find({ tenant }, { keyId: 1 }).lean()).map((k) => k.keyId);
      await TenantKey.deleteMany({ tenant });
      for (const id of ids) cache.delete(id);
    },
    async verify(key) {
      const m = KEY.exec(key);
      if (!m) return undefined;
      const [, id, secret] = m as unknown as [string, string, string];
      const now = d.clock.now();
      let e = cache.get(id);
      if (!e || now - e.at >= ttl) {
        e = { at: now, value: load(id) };
        e.value.catch(() => cache.delete(id));
        cache.set(id, e);
      }
      // key ids are not secret (they are listed); only the comparison of secrets must be constant-time
      const rec = await e.value;
      return rec && timingSafeEqual(sha256(secret), rec.secretHash) ? rec.principal : undefined;
    },
  };
}
