/**
 * /system/tenants (admin only):
 *   POST   /system/tenants                 {name, namespaces?, password?} → 201 IssuedCredentials
 *   GET    /system/tenants                 TenantInfo[]
 *   GET    /system/tenants/:name           TenantInfo
 *   DELETE /system/tenants/:name           200 (its namespaces and functions stay, owned by the admin)
 *   POST   /system/tenants/:name/rotate    {password?} → 200 IssuedCredentials
 *   POST   /system/tenants/:name/keys      {name?} → 201 IssuedApiKey (the key, shown this once)
 *   GET    /system/tenants/:name/keys      ApiKeyInfo[]
 *   DELETE /system/tenants/:name/keys/:id  200 (the key stops working)
 * A tenant may read itself at GET /system/tenant (no credentials in the answer) and manage its
 * own invoke-only API keys at /system/tenant/keys (same three verbs, its own keys only).
 */
import { Router, type Response } from 'express';
import { PlatformError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { TenantStore } from '../tenants/tenant-store.ts';
import type { ApiKeyStore } from '../tenants/api-keys.ts';
import { validateTenantName } from '../tenants/tenant-store.ts';
import { principalOf } from '../tenants/principal.ts';

function requireAdmin(res: Response): void {
  const p = principalOf(res);
  if (p.kind !== 'admin')
    throw new PlatformError('forbidden', `tenant "${p.name}" may not manage tenants; only the admin can`);
}

function bodyObject(body: unknown, what: string): Record<string, unknown> {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body))
    throw new PlatformError('bad_request', `${what}: the body must be a JSON object`);
  const o = body as Record<string, unknown>;
  return o;
}

function onlyKeys(o: Record<string, unknown>, keys: string[], what: string): void {
  for (const k of Object.keys(o))
    if (!keys.includes(k))
      throw new PlatformError('bad_request', `${what}: unknown field "${k}"; allowed: ${keys.join(', ')}`, {
        details: { field: k },
      });
}

/** The tenant whose own keys /system/tenant/keys manages: the caller, which must be a tenant. */
function selfTenant(res: Response): string {
  const p = principalOf(res);
  if (p.kind !== 'tenant')
    throw new PlatformError(
      'bad_request',
      "the admin has no API keys of its own: manage a tenant's keys at /system/tenants/NAME/keys (fastgshare tenant key create --tenant NAME)",
    );
  return p.name;
}

export function createTenantRoutes(d: { tenants: TenantStore; keys: ApiKeyStore; log: Logger }): Router {
  const r = Router();
  const createKey = async (tenant: string, body: unknown, res: Response) => {
    const b = bodyObject(body, 'create API key');
    onlyKeys(b, ['name'], 'create API key');
    const issued = await d.keys.create(tenant, b.name as string | undefined);
    d.log.info('tenant API key created', { tenant, keyId: issued.id });
    res.status(201).setHeader('Cache-Control', 'no-store').json(issued);
  };
  const revokeKey = async (tenant: string, id: string, res: Response) => {
    await d.keys.revoke(tenant, id);
    d.log.info('tenant API key revoked', { tenant, keyId: id });
    res.status(200).end();
  };
  r.post('/system/tenants', async (req, res) => {
    requireAdmin(res);
    const b = bodyObject(req.body, 'create tenant');
    onlyKeys(b, ['name', 'namespaces', 'password'], 'create tenant');
    if (b.namespaces !== undefined && !Array.isArray(b.namespaces))
      throw new PlatformError('bad_request', 'create tenant: namespaces must be a list of names', {
        details: { field: 'namespaces' },
      });
    const issued = await d.tenants.create({
      name: b.name as string,
      namespaces: b.namespaces as string[] | undefined,
      password: b.password as string | undefined,
    });
    d.log.info('tenant created', { tenant: issued.name, namespaces: issued.namespaces.join(',') });
    res.status(201).setHeader('Cache-Control', 'no-store').json(issued);
  });
  r.get('/system/tenants', async (_req, res) => {
    requireAdmin(res);
    res.json(await d.tenants.list());
  });
  r.get('/system/tenants/:name', async (req, res) => {
    requireAdmin(res);
    res.json(await d.tenants.get(req.params.name));
  });
  r.delete('/system/tenants/:name', async (req, res) => {
    requireAdmin(res);
    await d.tenants.remove(req.params.name);
    d.log.info('tenant removed', { tenant: req.params.name });
    res.status(200).end();
  });
  r.post('/system/tenants/:name/rotate', async (req, res) => {
    requireAdmin(res);
    const b = bodyObject(req.body, 'rotate credentials');
    onlyKeys(b, ['password'], 'rotate credentials');
    const issued = await d.tenants.rotate(req.params.name, b.password as string | undefined);
    d.log.info('tenant credentials rotated', { tenant: issued.name });
    res.status(200).setHeader('Cache-Control', 'no-store').json(issued);
  });
  r.post('/system/tenants/:name/keys', async (req, res) => {
    requireAdmin(res);
    await createKey(validateTenantName(req.params.name), req.body, res);
  });
  r.get('/system/tenants/:name/keys', async (req, res) => {
    requireAdmin(res);
    const name = validateTenantName(req.params.name);
    await d.tenants.get(name); // 404 for an unknown tenant rather than an empty list
    res.json(await d.keys.list(name));
  });
  r.delete('/system/tenants/:name/keys/:id', async (req, res) => {
    requireAdmin(res);
    await revokeKey(validateTenantName(req.params.name), req.params.id, res);
  });
  r.post('/system/tenant/keys', async (req, res) => createKey(selfTenant(res), req.body, res));
  r.get('/system/tenant/keys', async (_req, res) => {
    res.json(await d.keys.list(selfTenant(res)));
  });
  r.delete('/system/tenant/keys/:id', async (req, res) => revokeKey(selfTenant(res), req.params.id, res));
  r.get('/system/tenant', (_req, res) => {
    const p = principalOf(res);
    res.json(p.kind === 'tenant' ? { kind: 'tenant', name: p.name, namespaces: p.namespaces } : { kind: 'admin' });
  });
  return r;
}
