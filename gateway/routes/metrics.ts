/**
 * /metrics: the gateway's own registry in Prometheus text format. It names every tenant's
 * functions, so where the gateway has auth on, the public port answers it to the admin only
 * (401 without or with wrong credentials, 403 for a tenant); scrapers use the metrics listener
 * instead (FASTGSHARE_METRICS_PORT, 127.0.0.1:8082 by default, http/metrics-listener.ts), as
 * with OpenFaaS. With auth off every caller is the admin and /metrics stays open.
 */
import { Router } from 'express';
import type { Registry } from 'prom-client';
import { PlatformError } from '../../core/errors.ts';
import { sourceOf } from '../tenants/system-auth.ts';

/** Who the Authorization header names (the gateway's authenticator). */
export type MetricsAuthenticate = (
  authorization: string | undefined,
  source?: string,
) => Promise<{ kind: 'admin' } | { kind: 'tenant'; name: string } | undefined>;

export interface MetricsRouteOptions {
  /** Set when auth is on: only the admin may read /metrics on this port. */
  authenticate?: MetricsAuthenticate;
  /** Where the metrics listener is (known once it listens), for the 401's hint. */
  metricsUrl?: () => string | undefined;
}

export async function writeMetrics(registry: Registry): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}

export function createMetricsRoutes(registry: Registry, opts: MetricsRouteOptions = {}): Router {
  const r = Router();
  r.get('/metrics', async (req, res) => {
    if (opts.authenticate) {
      // throttled per source address like every other login (tenants/login-throttle.ts)
      const who = await opts.authenticate(req.headers.authorization, sourceOf(req.socket.remoteAddress));
      const at = opts.metricsUrl?.();
      const elsewhere = at ? `, or scrape ${at}/metrics (FASTGSHARE_METRICS_PORT) from the gateway's host` : '';
      if (!who)
        throw new PlatformError('unauthorized', `/metrics on this port needs the admin's basic auth${elsewhere}`);
      if (who.kind !== 'admin')
        throw new PlatformError(
          'forbidden',
          `/metrics shows every tenant's functions: only the admin may read it; tenant "${who.name}" reads its usage with GET /system/cost`,
        );
    }
    const m = await writeMetrics(registry);
    res.setHeader('Content-Type', m.contentType);
    res.send(m.body);
  });
  return r;
}
