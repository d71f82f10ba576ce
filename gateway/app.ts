/**
 * The gateway's routes in order: the invocation proxy (no body parser, no auth), health and
 * metrics, then /system/* behind optional basic auth and a bounded JSON body parser, then a
 * helpful 404, then the one error middleware.
 *
 * Invocations are the hot path: `createRequestListener` hands `/function/...` to the invoke
 * handler straight from the HTTP server, without express's router and request decoration
 * (measured: express's routing alone costs about as much CPU per call as the proxying itself;
 * see bench/results/gateway.md). Everything else goes through express.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express, type RequestHandler, type Router } from 'express';
import { toPlatformError } from '../core/errors.ts';
import { sendError } from './http/send-error.ts';
import type { Logger } from '../core/logger.ts';
import { PlatformError } from '../core/errors.ts';
import { createErrorMiddleware } from './http/send-error.ts';
import { createJsonBody } from './http/json-body.ts';
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
  if (p.systemAuth) app.use('/system', p.systemAuth);
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

const FUNCTION_PREFIX = '/function/';
const ASYNC_PREFIX = '/async-function/';

/** Answers /async-function/ when async invocations are off. */
export const asyncOff: InvokeHandler = async (req, res) => {
  req.resume();
  sendError(res, new PlatformError('not_implemented', 'async invocations are off on this gateway: set REDIS_URL (or FASTGSHARE_ASYNC=true) to queue calls on /async-function/'));
};

/**
 * The HTTP server's listener: `/function/...` to the invoke handler and `/async-function/...`
 * to the async submission handler directly, the rest to express.
 */
export function createRequestListener(app: Express, invoke: InvokeHandler, log: Logger, asyncInvoke: InvokeHandler = asyncOff): (req: IncomingMessage, res: ServerResponse) => void {
  const direct = (handler: InvokeHandler, prefix: string, req: IncomingMessage, res: ServerResponse, url: string) => {
    req.url = url.slice(prefix.length - 1); // keep the leading '/': '/name.ns/sub?q'
    handler(req, res).catch((err: unknown) => {
      const pe = toPlatformError(err);
      if (pe.code === 'internal') log.error('invocation failed', { error: err as Error, stack: (err as Error)?.stack });
      sendError(res, pe);
    });
  };
  return (req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith(FUNCTION_PREFIX)) return direct(invoke, FUNCTION_PREFIX, req, res, url);
    if (url.startsWith(ASYNC_PREFIX)) return direct(asyncInvoke, ASYNC_PREFIX, req, res, url);
    app(req, res);
  };
}
