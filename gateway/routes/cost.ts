/**
 * GET /system/cost?tenant=&from=&to=&granularity=minute|hour|day&model=use|reserved[&format=csv]
 *   JSON (CostReport), or CSV with format=csv or `Accept: text/csv`.
 * GET /system/cost/report?tenant=&...   the same as an HTML page with charts per tenant.
 * A tenant sees only its own (asking for another is a 403); the admin sees every tenant.
 */
import { Router, type Request, type Response } from 'express';
import type { Models } from '../../core/store/models.ts';
import type { PricingConfig } from '../../core/config.ts';
import type { Clock } from '../../core/clock.ts';
import { PlatformError } from '../../core/errors.ts';
import { principalOf } from '../tenants/principal.ts';
import type { TenantStore } from '../tenants/tenant-store.ts';
import { parseCostQuery } from '../metering/cost-query.ts';
import { buildCostReport, type CostReport } from '../metering/cost-report.ts';
import { costReportCsv } from '../metering/cost-csv.ts';
import { costReportHtml } from '../metering/cost-html.ts';
import { queryString } from './query.ts';

export interface CostRouteDeps {
  models: Models;
  tenants: TenantStore;
  pricing: PricingConfig;
  clock: Clock;
  /** Writes pending usage before a report is read (metering's flush), when metering runs here. */
  beforeReport?: () => Promise<void>;
}

const PARAMS = ['tenant', 'from', 'to', 'granularity', 'model', 'format'];

export function createCostRoutes(d: CostRouteDeps): Router {
  const r = Router();
  const report = async (req: Request, res: Response): Promise<CostReport> => {
    const q: Record<string, string | undefined> = {};
    for (const k of Object.keys(req.query))
      if (!PARAMS.includes(k))
        throw new PlatformError('bad_request', `unknown query parameter "${k}"; use ${PARAMS.join(', ')}`);
    for (const k of PARAMS) q[k] = queryString(req.query, k);
    const query = parseCostQuery(q, d.clock.date().getTime());
    const p = principalOf(res);
    if (p.kind === 'tenant') {
      if (query.tenant && query.tenant !== p.name)
        throw new PlatformError(
          'forbidden',
          `tenant "${p.name}" may only read its own cost, not tenant "${query.tenant}"'s`,
        );
      query.tenant = p.name;
    } else if (query.tenant) {
      await d.tenants.get(query.tenant);
    }
    await d.beforeReport?.();
    return buildCostReport({ models: d.models, pricing: d.pricing, owners: await d.tenants.owners() }, query);
  };
  r.get('/system/cost', async (req, res) => {
    const format = queryString(req.query, 'format');
    if (format !== undefined && format !== 'csv' && format !== 'json')
      throw new PlatformError('bad_request', `query parameter "format" must be json or csv, got "${format}"`);
    const csv = format === 'csv' || (format === undefined && (req.headers.accept ?? '').includes('text/csv'));
    const rep = await report(req, res);
    if (csv)
      res
        .type('text/csv; charset=utf-8')
        .setHeader('Content-Disposition', 'inline; filename="cost.csv"')
        .send(costReportCsv(rep));
    else res.json(rep);
  });
  r.get('/system/cost/report', async (req, res) => {
    const rep = await report(req, res);
    res
      .type('text/html; charset=utf-8')
      .setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
      .send(costReportHtml(rep));
  });
  return r;
}
