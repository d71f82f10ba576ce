/**
 * /system/profiles/{name}: profiler sweeps and tables (profiler/service.ts).
 * GET    /system/profiles                 the queue: sweeps running, then waiting, each with what it waits for
 * (?namespace= narrows it)
 * POST   /system/profiles/{name}          queue a sweep → 202 {id, trials, estimateSeconds, …}; 409 while one is
 * queued or running
 *   GET    /system/profiles/{name}/job      the latest sweep: state, progress (trial i of n, config, ETA)
 *   DELETE /system/profiles/{name}/job      cancel it
 *   GET    /system/profiles/{name}          the table as JSON (?format=csv for CSV; ?device=CLASS)
 *   GET    /system/profiles/{name}/chart    the table as an HTML page with inline SVG charts
 * `name` may be `name.namespace`, or `?namespace=` given. Answers 501 when the profiler is off.
 * Admin only, like every profile route (gateway/tenants/scope.ts answers a tenant 403): a sweep takes
 * a device every tenant shares, and the queue names every tenant's functions.
 */
import { Router } from 'express';
import { PlatformError } from '../../core/errors.ts';
import { parseQualifiedName, validateNamespace } from '../../core/names.ts';
import type { ProfilerService } from '../../profiler/service.ts';
import { tableCsv } from '../../profiler/csv.ts';
import { chartPage } from '../../profiler/chart.ts';
import { queryString } from './query.ts';

export function createProfileRoutes(service: ProfilerService | undefined): Router {
  const r = Router();
  const svc = (): ProfilerService => {
    if (!service)
      throw new PlatformError(
        'not_implemented',
        'the profiler is off on this gateway: set REDIS_URL (or FASTGSHARE_PROFILER=true) to run sweeps',
      );
    return service;
  };
  const target = (req: { params: Record<string, string>; query: unknown }) =>
    parseQualifiedName(req.params.name!, queryString(req.query as never, 'namespace'));

  r.get('/system/profiles', async (req, res) => {
    const ns = queryString(req.query as never, 'namespace');
    if (ns !== undefined) validateNamespace(ns);
    res.json(await svc().queue(ns));
  });
  r.post('/system/profiles/:name', async (req, res) => {
    const { name, namespace } = target(req);
    res.status(202).json(await svc().request(namespace, name, req.body));
  });
  r.get('/system/profiles/:name/job', async (req, res) => {
    const { name, namespace } = target(req);
    res.json(await svc().job(namespace, name));
  });
  r.delete('/system/profiles/:name/job', async (req, res) => {
    const { name, namespace } = target(req);
    res.json(await svc().cancel(namespace, name));
  });
  r.get('/system/profiles/:name/chart', async (req, res) => {
    const { name, namespace } = target(req);
    res
      .type('text/html')
      .send(chartPage(await svc().table(namespace, name, queryString(req.query as never, 'device'))));
  });
  r.get('/system/profiles/:name', async (req, res) => {
    const { name, namespace } = target(req);
    const table = await svc().table(namespace, name, queryString(req.query as never, 'device'));
    const format = queryString(req.query as never, 'format') ?? 'json';
    if (format === 'csv') {
      res.type('text/csv').attachment(`${name}-${table.deviceClass}.csv`).send(tableCsv(table));
      return;
    }
    if (format !== 'json') throw new PlatformError('bad_request', `format "${format}" is not known: use json or csv`);
    res.json(table);
  });
  return r;
}
