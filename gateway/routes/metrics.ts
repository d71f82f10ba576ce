/** /metrics: the gateway's own registry in Prometheus text format. */
import { Router } from 'express';
import type { Registry } from 'prom-client';

export function createMetricsRoutes(registry: Registry): Router {
  const r = Router();
  r.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', registry.contentType);
    res.send(await registry.metrics());
  });
  return r;
}
