/**
 * The model function's HTTP server (OpenFaaS watchdog conventions): `GET /_/health` answers 503
 * until the model is loaded and warmed up (`setReady()`), then 200 (503 again while draining).
 * `GET` on any other path describes the function; every other request is an invocation: the body
 * (at most `maxBodyBytes`, else 413) goes to the model service and its result comes back as JSON.
 * A PlatformError answers with its code's status and message: 400 bad input, 429 at once when the
 * SLO cannot be met, 413 too large; anything else is a 500.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { httpStatusFor, isErrorCode } from 'fastgshare/core/errors.ts';
import { BodyTooLargeError, readBody } from 'fastgshare/templates/node-http/runtime/body.ts';
import { sendText } from 'fastgshare/templates/node-http/runtime/response.ts';
import type { ModelService } from '../service.ts';

export const HEALTH_PATH = '/_/health';

export interface Output {
  write(line: string): void;
}

export interface ModelServerOptions {
  maxBodyBytes: number;
  debug: boolean;
  /** What `GET` answers (function, device, settings). */
  describe(): Record<string, unknown>;
  stdout: Output;
  stderr: Output;
}

export interface ModelServer {
  server: Server;
  listen(port: number, host: string): Promise<number>;
  /** The model is loaded and warm: health turns 200 and invocations are served. */
  setReady(service: ModelService): void;
  drain(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}

/** The status of a thrown error: its PlatformError code's, else 500. */
export function statusOfError(err: unknown): number {
  const code = (err as { code?: unknown } | null)?.code;
  return isErrorCode(code) ? httpStatusFor(code) : 500;
}

export function createModelServer(opts: ModelServerOptions): ModelServer {
  let service: ModelService | undefined;
  let draining = false;
  const inFlight = new Set<ServerResponse>();
  let idle: (() => void) | undefined;

  const finished = (res: ServerResponse) => {
    inFlight.delete(res);
    if (draining && inFlight.size === 0) idle?.();
  };

  const invoke = async (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    try {
      if ((req.method ?? 'GET').toUpperCase() === 'GET') {
        req.resume();
        sendJson(res, 200, { ...opts.describe(), ready: service !== undefined, stats: service?.stats() });
        return;
      }
      const body = await readBody(req, opts.maxBodyBytes);
      if (!service) {
        sendText(res, 503, 'the model is still loading', { 'retry-after': '1' });
        return;
      }
      const result = await service.invoke(body, req.headers['content-type']);
      sendJson(res, 200, result);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        sendText(res, 413, err.message, { connection: 'close' });
        return;
      }
      const status = statusOfError(err);
      const message = err instanceof Error ? err.message : String(err);
      if (status >= 500) opts.stderr.write(`invocation failed: ${err instanceof Error && err.stack ? err.stack : message}\n`);
      sendText(res, status, message || 'internal error', status === 429 ? { 'retry-after': '1' } : {});
    } finally {
      if (opts.debug) {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        opts.stdout.write(`${new Date().toISOString()} ${req.method} ${req.url} ${res.statusCode} ${ms.toFixed(1)}ms\n`);
      }
    }
  };

  const server = createServer((req, res) => {
    if (req.url === HEALTH_PATH || req.url?.startsWith(HEALTH_PATH + '?')) {
      req.resume();
      const status = draining || !service ? 503 : 200;
      sendText(res, status, draining ? 'draining' : service ? 'OK' : 'loading model');
      return;
    }
    inFlight.add(res);
    if (draining) res.setHeader('connection', 'close');
    res.once('close', () => finished(res));
    void invoke(req, res);
  });

  return {
    server,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const addr = server.address();
          resolve(typeof addr === 'object' && addr ? addr.port : port);
        });
      });
    },
    setReady(s) {
      service = s;
    },
    drain() {
      draining = true;
      for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const quiet = inFlight.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => (idle = resolve));
      return quiet.then(() => {
        server.closeAllConnections();
        return closed;
      });
    },
  };
}
