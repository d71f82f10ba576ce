/**
 * The replica's HTTP server (OpenFaaS watchdog conventions): `GET /_/health` answers 200 while
 * the replica serves (503 while draining); every other method and path goes to the handler.
 * `drain()` stops accepting connections and resolves once in-flight requests have finished.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { BodyTooLargeError, readBody } from './body.ts';
import { sendResult, sendText } from './response.ts';
import type { Handler, HandlerContext, HandlerEvent } from './types.ts';

export interface Output {
  write(line: string): void;
}

export interface ReplicaServerOptions {
  handler: Handler;
  context: HandlerContext;
  maxBodyBytes: number;
  debug: boolean;
  /** Request log lines (write_debug=true). */
  stdout: Output;
  /** Handler errors. */
  stderr: Output;
}

export interface ReplicaServer {
  server: Server;
  listen(port: number, host: string): Promise<number>;
  drain(): Promise<void>;
}

export const HEALTH_PATH = '/_/health';

function toEvent(req: IncomingMessage, body: Buffer): HandlerEvent {
  const url = new URL(req.url ?? '/', 'http://replica');
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: req.headers,
    body,
  };
}

export function createReplicaServer(opts: ReplicaServerOptions): ReplicaServer {
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
      const body = await readBody(req, opts.maxBodyBytes);
      const result = await opts.handler(toEvent(req, body), opts.context);
      sendResult(res, result);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        sendText(res, 413, err.message, { connection: 'close' });
      } else {
        const message = err instanceof Error ? err.message : String(err);
        opts.stderr.write(`handler error: ${method(req)} ${req.url}: ${err instanceof Error && err.stack ? err.stack : message}\n`);
        const status = statusOf(err);
        sendText(res, status, message || 'internal error');
      }
    } finally {
      if (opts.debug) {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        opts.stdout.write(`${new Date().toISOString()} ${method(req)} ${req.url} ${res.statusCode} ${ms.toFixed(1)}ms\n`);
      }
    }
  };

  const server = createServer((req, res) => {
    if (req.url === HEALTH_PATH || req.url?.startsWith(HEALTH_PATH + '?')) {
      req.resume();
      sendText(res, draining ? 503 : 200, draining ? 'draining' : 'OK');
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
    drain() {
      draining = true;
      // busy keep-alive connections close after their response; idle ones close now
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

function method(req: IncomingMessage): string {
  return (req.method ?? 'GET').toUpperCase();
}

/** A handler may throw an error with `status` or `statusCode` (4xx/5xx) to choose the response code. */
function statusOf(err: unknown): number {
  const e = err as { status?: unknown; statusCode?: unknown } | null;
  const s = typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : 500;
  return Number.isInteger(s) && s >= 400 && s <= 599 ? s : 500;
}
