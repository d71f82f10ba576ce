/**
 * The gateway's routes in order: the invocation proxy (no body parser, no auth), health and
 * metrics, then /system/* behind optional basic auth and a bounded JSON body parser, then a
 * helpful 404, then the one error middleware.
 *
 * Invocations are the hot path: `createRequestListener` hands `/function/...` to the invoke
 * handler straight from the HTTP server, without express's router and request decoration
 * (measured: express's routing alone costs about as much CPU per call as the proxying itself;
 * see bench/results/gateway.md). Everything else goes through express.
 *
 * Before either, the listener puts the URL in its one canonical form (http/canonical-path.ts):
 * decoded, checked, and lower case only, so that the fast paths, auth, the tenant scope and the
 * routers all read the same path; a malformed one is a 400 and a case variant a 404 here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express, type RequestHandler, type Router } from 'express';
import { PlatformError, toPlatformError } from '../core/errors.ts';
import { createErrorMiddleware, errorReference, sendError } from './http/send-error.ts';
import type { Logger } from '../core/logger.ts';
import { createJsonBody } from './http/json-body.ts';
import { canonicalizeUrl, type CanonicalUrl } from './http/canonical-path.ts';
import { ADMIN, setPrincipal } from './tenants/principal.ts';
import type { InvokeHandler } from './proxy/invoke.ts';

export interface AppParts {
  invoke: InvokeHandler;
  /** Routes outside /system (healthz, metrics). */
  open: Router[];
  /** /system/* routes. */
  system: Router[];
  /** Guards /system/* (basic auth) when set. */
  systemAuth?: RequestHandler;
  systemBodyLimitBytes?: number;
  log: Logger;
}

export function createApp(p: AppParts): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // reached only when the fast path below is bypassed (e.g. the app mounted elsewhere)
  app.use('/function', (req, res, next) => {
    p.invoke(req, res).catch(next);
  });
  for (const r of p.open) app.use(r);
  // auth off: every /system caller is the admin (and reads error messages in full)
  app.use('/system', p.systemAuth ?? ((_req, res, next) => (setPrincipal(res, ADMIN), next())));
  app.use('/system', createJsonBody(p.systemBodyLimitBytes));
  for (const r of p.system) app.use(r);
  app.use((req, _res, next) => {
    next(
      new PlatformError(
        'not_found',
        `no route for ${req.method} ${req.path}: the gateway serves /function/NAME[.NAMESPACE], /async-function/NAME[.NAMESPACE], /system/functions, /system/function/NAME, /system/scale-function/NAME, /system/info, /system/namespaces, /system/secrets, /system/logs, /system/profiles/NAME, /system/explain/NAME, /system/tenants, /system/cost, /healthz and /metrics`,
      ),
    );
  });
  app.use(createErrorMiddleware(p.log));
  return app;
}

/** Answers /async-function/ when async invocations are off. */
export const asyncOff: InvokeHandler = async (req, res) => {
  req.resume();
  sendError(
    res,
    new PlatformError(
      'not_implemented',
      'async invocations are off on this gateway: set REDIS_URL (or FASTGSHARE_ASYNC=true) to queue calls on /async-function/',
    ),
  );
};

/**
 * The HTTP server's listener: the URL made canonical once, then `/function/...` to the invoke
 * handler and `/async-function/...` to the async submission handler directly, the rest to express.
 */
export function createRequestListener(
  app: Express,
  invoke: InvokeHandler,
  log: Logger,
  asyncInvoke: InvokeHandler = asyncOff,
): (req: IncomingMessage, res: ServerResponse) => void {
  const direct = (handler: InvokeHandler, req: IncomingMessage, res: ServerResponse, below: string) => {
    req.url = below; // '/name.ns/sub?q', the name canonical, the sub-path as sent
    handler(req, res).catch((err: unknown) => {
      const pe = toPlatformError(err);
      const ref = pe.code === 'internal' ? errorReference() : undefined;
      if (pe.code === 'internal')
        log.error('invocation failed', { ref, error: err as Error, stack: (err as Error)?.stack });
      sendError(res, pe, ref);
    });
  };
  return (req, res) => {
    let target: CanonicalUrl;
    try {
      target = canonicalizeUrl(req.url ?? '/');
    } catch (err) {
      const pe = toPlatformError(err);
      log.debug('request refused: not a canonical path', { method: req.method, code: pe.code, error: pe.message });
      req.resume();
      return sendError(res, pe);
    }
    if (target.kind === 'function') return direct(invoke, req, res, target.below!);
    if (target.kind === 'async-function') return direct(asyncInvoke, req, res, target.below!);
    req.url = target.url;
    app(req, res);
  };
}
