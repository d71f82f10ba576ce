/**
 * The part of an OpenFaaS-style watchdog every template runtime shares: an HTTP server whose
 * `GET /_/health` answers 200 when the replica can serve (503 with a reason while it cannot, or
 * while draining), every other request handed to `handle`, in-flight requests tracked so that
 * `drain()` stops accepting connections and resolves once they have finished, and an optional
 * request log line (write_debug=true).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { sendText } from './response.ts';

export const HEALTH_PATH = '/_/health';

export interface Output {
  write(line: string): void;
}

export interface WatchdogOptions {
  /** Serves one request (never the health path); answers every request it is given. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Why the replica cannot serve yet (health answers 503 with it); undefined when ready. */
  notReady?(): string | undefined;
  debug: boolean;
  /** Request log lines when `debug`. */
  stdout: Output;
}

export interface Watchdog {
  server: Server;
  listen(port: number, host: string): Promise<number>;
  drain(): Promise<void>;
}

export function createWatchdog(opts: WatchdogOptions): Watchdog {
  let draining = false;
  const inFlight = new Set<ServerResponse>();
  let idle: (() => void) | undefined;

  const finished = (res: ServerResponse) => {
    inFlight.delete(res);
    if (draining && inFlight.size === 0) idle?.();
  };

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    try {
      await opts.handle(req, res);
    } finally {
      if (opts.debug) {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        opts.stdout.write(`${new Date().toISOString()} ${(req.method ?? 'GET').toUpperCase()} ${req.url} ${res.statusCode} ${ms.toFixed(1)}ms\n`);
      }
    }
  };

  const server = createServer((req, res) => {
    if (req.url === HEALTH_PATH || req.url?.startsWith(HEALTH_PATH + '?')) {
      req.resume();
      const reason = draining ? 'draining' : opts.notReady?.();
      sendText(res, reason ? 503 : 200, reason ?? 'OK');
      return;
    }
    inFlight.add(res);
    if (draining) res.setHeader('connection', 'close');
    res.once('close', () => finished(res));
    void serve(req, res);
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
