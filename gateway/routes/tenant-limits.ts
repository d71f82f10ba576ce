/**
 * A tenant's admission limits:
 *   GET /system/tenant/limits          the calling tenant's own TenantLimitsInfo (read only)
 * and, for the admin:
 *   GET /system/tenants/:name/limits   TenantLimitsInfo: defaults, overrides, effective limits, usage now
 *   PUT /system/tenants/:name/limits   {replicas?, functions?, deviceShare?, memory?} (null clears one)
 *                                      → 200 TenantLimitsInfo
 * The overrides apply to the next deploy, update or scale; functions already over a lowered
 * limit keep running (they can scale down, not up).
 */
import { Router, type Response } from 'express';
import { PlatformError } from '../../core/errors.ts';
import type { Admission } from '../admission/admission.ts';
import { principalOf } from '../tenants/principal.ts';

function requireAdmin(res: Response): void {
  const p = principalOf(res);
  if (p.kind !== 'admin')
    throw new PlatformError(
      'forbidden',
      `tenant "${p.name}" may not read or change tenant limits; ask the platform admin`,
    );
}

export function createTenantLimitRoutes(admission: Admission): Router {
  const r = Router();
  r.get('/system/tenant/limits', async (_req, res) => {
    const p = principalOf(res);
    if (p.kind !== 'tenant')
      throw new PlatformError(
        'bad_request',
        "GET /system/tenant/limits shows a tenant its own limits; the admin reads any tenant's at /system/tenants/NAME/limits",
      );
    res.json(await admission.info(p.name));
  });
  r.get('/system/tenants/:name/limits', async (req, res) => {
    requireAdmin(res);
    res.json(await admission.info(req.params.name));
  });
  r.put('/system/tenants/:name/limits', async (req, res) => {
    requireAdmin(res);
    res.json(await admission.setLimits(req.params.name, req.body));
  });
  return r;
}
