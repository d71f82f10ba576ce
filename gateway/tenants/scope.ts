/**
 * Keeps a tenant inside its namespaces on /system/*. Runs after auth and the JSON body parser,
 * before the routes, and changes no route: a request without a namespace gets the tenant's
 * first one; a request naming another namespace is a 403; routes a tenant has no business
 * with (tenants, namespaces admin, profiles, ...) are a 403 too. Listing functions or
 * namespaces without a namespace shows only the tenant's own.
 *
 * It reads the same path the routers match: the request listener (gateway/app.ts) has made the
 * URL canonical (decoded, lower case, no '.', '..' or '//'), so `req.path` here is the path the
 * routers see. As a second line, the checks below compare case-insensitively, as express's
 * routers do, so that a case variant could never be routed without being scoped.
 */
import { Router, type Request } from 'express';
import type { FunctionStatus } from '../../core/contracts/openfaas.ts';
import { PlatformError } from '../../core/errors.ts';
import { principalOf, type TenantPrincipal } from './principal.ts';
import { readInvokeAuth } from '../../core/contracts/annotations.ts';

type Where = 'query' | 'body' | 'either' | 'none';

/** Routes a tenant may use and where each takes its namespace from. */
export const TENANT_ROUTES: ReadonlyArray<{ method: string; path: RegExp; where: Where }> = [
  { method: 'GET', path: /^\/system\/functions\/?$/, where: 'query' },
  { method: 'POST', path: /^\/system\/functions\/?$/, where: 'body' },
  { method: 'PUT', path: /^\/system\/functions\/?$/, where: 'body' },
  // faas-cli remove -n NS puts the namespace in the query, other clients in the body
  { method: 'DELETE', path: /^\/system\/functions\/?$/, where: 'either' },
  { method: 'GET', path: /^\/system\/function\/[^/]+\/?$/, where: 'query' },
  { method: 'POST', path: /^\/system\/scale-function\/[^/]+\/?$/, where: 'either' },
  { method: 'GET', path: /^\/system\/secrets\/?$/, where: 'query' },
  { method: 'POST', path: /^\/system\/secrets\/?$/, where: 'body' },
  { method: 'PUT', path: /^\/system\/secrets\/?$/, where: 'body' },
  { method: 'DELETE', path: /^\/system\/secrets\/?$/, where: 'body' },
  { method: 'GET', path: /^\/system\/logs\/?$/, where: 'query' },
  { method: 'GET', path: /^\/system\/namespaces\/?$/, where: 'none' },
  { method: 'GET', path: /^\/system\/info\/?$/, where: 'none' },
  { method: 'GET', path: /^\/system\/tenant\/?$/, where: 'none' },
  // a tenant reads its own admission limits and usage (routes/tenant-limits.ts)
  { method: 'GET', path: /^\/system\/tenant\/limits\/?$/, where: 'none' },
  // a tenant's own invoke-only API keys (routes/tenants.ts scopes them to the caller)
  { method: 'GET', path: /^\/system\/tenant\/keys\/?$/, where: 'none' },
  { method: 'POST', path: /^\/system\/tenant\/keys\/?$/, where: 'none' },
  { method: 'DELETE', path: /^\/system\/tenant\/keys\/[^/]+\/?$/, where: 'none' },
  // the cost routes scope themselves by tenant (routes/cost.ts)
  { method: 'GET', path: /^\/system\/cost(\/report)?\/?$/, where: 'none' },
];

export interface ScopeDeps {
  listFunctions(namespace: string, usage: boolean): Promise<FunctionStatus[]>;
}

function forbidden(t: TenantPrincipal, ns: string): PlatformError {
  return new PlatformError(
    'forbidden',
    `tenant "${t.name}" may only use its own namespaces (${t.namespaces.join(', ')}); namespace "${ns}" is not one of them`,
    { details: { field: 'namespace' } },
  );
}

function setQueryNamespace(req: Request, ns: string): void {
  const u = new URL(req.url, 'http://x');
  u.searchParams.set('namespace', ns);
  req.url = u.pathname + u.search;
}

export function createTenantScope(d: ScopeDeps): Router {
  const r = Router();
  r.use(async (req, res, next) => {
    const path = req.path.toLowerCase();
    if (!path.startsWith('/system')) return next();
    const body =
      req.body && typeof req.body === 'object' && !Array.isArray(req.body)
        ? (req.body as Record<string, unknown>)
        : undefined;
    // for everyone: a deployment's invoke_auth annotation must be one we understand
    if ((req.method === 'POST' || req.method === 'PUT') && /^\/system\/functions\/?$/.test(path))
      readInvokeAuth(body?.annotations);
    const p = principalOf(res);
    if (p.kind !== 'tenant') return next();
    const route = TENANT_ROUTES.find((x) => x.method === req.method && x.path.test(path));
    if (!route)
      throw new PlatformError(
        'forbidden',
        `tenant "${p.name}" may not use ${req.method} ${req.path}; only the admin can`,
      );
    const fromQuery =
      typeof req.query.namespace === 'string' && req.query.namespace !== '' ? req.query.namespace : undefined;
    const fromBody = typeof body?.namespace === 'string' && body.namespace !== '' ? body.namespace : undefined;
    const given =
      route.where === 'query'
        ? [fromQuery]
        : route.where === 'body'
          ? [fromBody]
          : route.where === 'either'
            ? [fromBody, fromQuery]
            : [];
    for (const ns of given) if (ns !== undefined && !p.namespaces.includes(ns)) throw forbidden(p, ns);
    if (req.method === 'GET' && /^\/system\/namespaces\/?$/.test(path)) {
      res.json([...p.namespaces]);
      return;
    }
    if (route.where === 'none' || given.some((ns) => ns !== undefined)) return next();
    // no namespace given: the tenant's own instead of the default one
    if (req.method === 'GET' && /^\/system\/functions\/?$/.test(path) && p.namespaces.length > 1) {
      const usage = ['1', 'true', 'yes'].includes(String(req.query.usage ?? '').toLowerCase());
      const lists = await Promise.all(p.namespaces.map((ns) => d.listFunctions(ns, usage)));
      res.json(lists.flat());
      return;
    }
    const home = p.namespaces[0];
    if (!home)
      throw new PlatformError('forbidden', `tenant "${p.name}" owns no namespace; ask the admin to give it one`);
    if (route.where === 'body' || (route.where === 'either' && body)) {
      if (!body) throw new PlatformError('bad_request', `${req.method} ${req.path} needs a JSON object body`);
      body.namespace = home;
    } else {
      setQueryNamespace(req, home);
    }
    next();
  });
  return r;
}
