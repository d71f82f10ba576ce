/**
 * /system/tenants (admin only):
 *   POST   /system/tenants                 {name, namespaces?, password?} → 201 IssuedCredentials
 *   GET    /system/tenants                 TenantInfo[]
 *   GET    /system/tenants/:name           TenantInfo
 *   DELETE /system/tenants/:name           200 (its namespaces and functions stay, owned by the admin)
 *   POST   /system/tenants/:name/rotate    {password?} → 200 IssuedCredentials
 * A tenant may read itself at GET /system/tenant (no credentials in the answer).
 */
import { Router, type Response } from 'express';
import { PlatformError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { TenantStore } from '../tenants/tenant-store.ts';
import { principalOf } from '../tenants/principal.ts';

function requireAdmin(res: Response): void {
  const p = principalOf(res);
  if (p.kind !== 'admin') throw new PlatformError('forbidden', `tenant "${p.name}" may not manage tenants; only the admin can`);
}

function bodyObject(body: unknown, what: string): Record<string, unknown> {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new PlatformError('bad_request', `${what}: the body must be a JSON object`);
  const o = body as Record<string, unknown>;
  return o;
}

function onlyKeys(o: Record<string, unknown>, keys: string[], what: string): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw new PlatformError('bad_request', `${what}: unknown field "${k}"; allowed: ${keys.join(', ')}`, { details: { field: k } });
}

export function createTenantRoutes(d: { tenants: TenantStore; log: Logger }): Router {
  const r = Router();
  r.post('/system/tenants', async (req, res) => {
    requireAdmin(res);
    const b = bodyObject(req.body, 'create tenant');
    onlyKeys(b, ['name', 'namespaces', 'password'], 'create tenant');
    if (b.namespaces !== undefined && !Array.isArray(b.namespaces)) throw new PlatformError('bad_request', 'create tenant: namespaces must be a list of names', { details: { field: 'namespaces' } });
    const issued = await d.tenants.create({ name: b.name as string, namespaces: b.namespaces as string[] | undefined, password: b.password as string | undefined });
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
  r.get('/system/tenant', (_req, res) => {
    const p = principalOf(res);
    res.json(p.kind === 'tenant' ? { kind: 'tenant', name: p.name, namespaces: p.namespaces } : { kind: 'admin' });
  });
  return r;
}
