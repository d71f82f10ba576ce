/**
 * The one place that turns errors into HTTP responses: status from the error code, a
 * text/plain message that says what to fix (OpenFaaS style) and `X-Fastgshare-Error: <code>`.
 *
 * Only the admin reads messages as they were written. Everyone else (tenants, anonymous
 * callers, every caller outside /system) gets them without server file-system paths or stack
 * frames (redact-paths.ts), and an internal error (a 500: an unexpected failure whose message
 * may say anything about the server) as a fixed text with a reference the admin finds in the
 * gateway log.
 */
import { randomBytes } from 'node:crypto';
import type { ErrorRequestHandler, Response } from 'express';
import type { ServerResponse } from 'node:http';
import { PlatformError, toPlatformError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { redactServerPaths } from './redact-paths.ts';

export const ERROR_HEADER = 'X-Fastgshare-Error';

/** A short id that ties an internal error's answer to its line in the gateway log. */
export function errorReference(): string {
  return randomBytes(6).toString('hex');
}

/** Whether the response goes to the admin: only when /system auth (or auth off) said so. */
function toAdmin(res: ServerResponse | Response): boolean {
  const locals = (res as Partial<Response>).locals as Record<string, unknown> | undefined;
  const p = locals?.principal as { kind?: unknown } | undefined;
  return p?.kind === 'admin';
}

/** The message a caller may read. */
export function messageFor(err: PlatformError, admin: boolean, ref?: string): string {
  if (admin) return err.message;
  if (err.code === 'internal')
    return `internal error: the gateway could not handle this request${ref ? ` (reference ${ref} in the gateway log)` : ''}; retry, and tell the platform's admin if it persists`;
  return redactServerPaths(err.message);
}

export function sendError(res: ServerResponse | Response, err: PlatformError, ref?: string): void {
  if (res.headersSent) {
    // too late for a status: cut the response so the client sees it is incomplete
    res.destroy();
    return;
  }
  const message = messageFor(err, toAdmin(res), ref);
  const body = message.endsWith('\n') ? message : message + '\n';
  res.statusCode = err.status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader(ERROR_HEADER, err.code);
  if (err.code === 'unauthorized') res.setHeader('WWW-Authenticate', 'Basic realm="Restricted"');
  res.end(body);
}

/** Errors thrown by body-parser carry a `type`; map those to coded errors. */
function fromBodyParser(err: unknown): PlatformError | undefined {
  const e = err as { type?: string; message?: string; limit?: number };
  if (e?.type === 'entity.parse.failed')
    return new PlatformError('bad_request', `invalid JSON in request body: ${e.message}`);
  if (e?.type === 'entity.too.large')
    return new PlatformError(
      'payload_too_large',
      `request body is larger than the ${e.limit} bytes allowed on /system/*; send a smaller body`,
    );
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported')
    return new PlatformError('bad_request', `unsupported request body encoding: ${e.message}`);
  if (e?.type === 'request.aborted') return new PlatformError('bad_request', 'the client aborted the request body');
  return undefined;
}

const STORE_DOWN = new Set([
  'MongoNetworkError',
  'MongoServerSelectionError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoNetworkTimeoutError',
  'MongooseServerSelectionError',
]);

/** The store (MongoDB or the embedded one) unreachable: a 503 that says so, not a bare 500. */
export function fromStoreOutage(err: unknown): PlatformError | undefined {
  const e = err as { name?: string; message?: string };
  if (!e || typeof e.name !== 'string' || !STORE_DOWN.has(e.name)) return undefined;
  return new PlatformError(
    'unavailable',
    `the store is not reachable right now (${e.message ?? e.name}); retry shortly (check first: the change may or may not have been saved)`,
    { cause: err },
  );
}

export function createErrorMiddleware(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const pe = fromBodyParser(err) ?? fromStoreOutage(err) ?? toPlatformError(err);
    const ref = pe.code === 'internal' ? errorReference() : undefined;
    if (pe.code === 'internal')
      log.error('request failed', {
        ref,
        method: req.method,
        path: req.path,
        error: err as Error,
        stack: (err as Error)?.stack,
      });
    else log.debug('request rejected', { method: req.method, path: req.path, code: pe.code, error: pe.message });
    sendError(res, pe, ref);
  };
}
