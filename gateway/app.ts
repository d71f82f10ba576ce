/**
 * The gateway's routes in order: the invocation proxy (no body parser, no auth), health and
 * metrics, then /system/* behind optional basic auth and a bounded JSON body parser, then a
 * helpful 404, then the one error middleware.
 */
import express, { type Express, type RequestHandler, type Router } from 'express';
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
        `no route for ${req.method} ${req.path}: the gateway serves /function/NAME[.NAMESPACE], /system/functions, /system/function/NAME, /system/scale-function/NAME, /system/info, /system/namespaces, /system/secrets, /system/logs, /healthz and /metrics`,
      ),
    );
  });
  app.use(createErrorMiddleware(p.log));
  return app;
}
