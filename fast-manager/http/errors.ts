/** Turns anything thrown in a route into `{code, message}` with the code's HTTP status. */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { PlatformError, toPlatformError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    let e: PlatformError;
    const status = (err as { status?: number; type?: string }).status;
    if (err instanceof SyntaxError && status === 400)
      e = new PlatformError('bad_request', `the request body is not valid JSON: ${err.message}`);
    else if (status === 413) e = new PlatformError('payload_too_large', 'the request body is too large');
    else e = toPlatformError(err);
    if (e.code === 'internal') log.error('request failed', { err: e.message });
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(e.status).json({ code: e.code, message: e.message });
  };
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new PlatformError('not_found', `no route ${req.method} ${req.path} on the node agent`));
};
