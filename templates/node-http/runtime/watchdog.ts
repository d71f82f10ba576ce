/**
 * The part of an OpenFaaS-style watchdog every template runtime shares: an HTTP server whose
 * `GET /_/health` answers 200 when the replica can serve (503 with a reason while it cannot, or
 * while draining), `GET /_/sample` answering a representative request body of the function with
 * its content type (what the profiler loads a replica with when it was given no input; 404 when
 * the function has none), every other request handed to `handle`, in-flight requests tracked so
 * that `drain()` stops accepting connections and resolves once they have finished, and an
 * optional request log line (write_debug=true).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { sendText } from './response.ts';

export const HEALTH_PATH = '/_/health';
/** Reserved path: a sample request body of the function (GET), for profiling without user input. */
export const SAMPLE_PATH = '/_/sample';

/** A request body the function accepts, with its content type. */
export interface SampleBody {
  body: Buffer;
  contentType: string;
}

export interface Output {
  write(line: string): void;
}

export interface WatchdogOptions {
  /** Serves one request (never the health path); answers every request it is given. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Why the replica cannot serve yet (health answers 503 with it); undefined when ready. */
  notReady?(): string | undefined;
  /** The function's sample request (`GET /_/sample`); absent or undefined: 404, the function has none. */
  sample?(): Promise<SampleBody | undefined>;
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
    if (isPath(req.url, HEALTH_PATH)) {
      req.resume();
      const reason = draining ? 'draining' : opts.notReady?.();
      sendText(res, reason ? 503 : 200, reason ?? 'OK');
      return;
    }
    if (isPath(req.url, SAMPLE_PATH)) {
      req.resume();
      void serveSample(req, res, opts).catch((err: Error) => {
        if (!res.headersSent) sendText(res, 500, `cannot make the sample request: ${err.message}`);
        else res.destroy();
      });
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

const isPath = (url: string | undefined, path: string) => url === path || Boolean(url?.startsWith(path + '?'));

const NO_SAMPLE =
  'this function serves no sample request (its handler defines none; model functions of the onnx-node template do): ' +
  'to profile it, give the request body yourself: POST /system/profiles/<function> {"input": {"base64": "...", "contentType": "..."}} (CLI: fastgshare profile <function> --data-file FILE --content-type TYPE)';

async function serveSample(req: IncomingMessage, res: ServerResponse, opts: WatchdogOptions): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') {
    sendText(res, 405, `${SAMPLE_PATH} answers GET only`, { allow: 'GET, HEAD' });
    return;
  }
  if (!opts.sample) {
    sendText(res, 404, NO_SAMPLE);
    return;
  }
  const reason = opts.notReady?.();
  if (reason) {
    sendText(res, 503, `no sample yet: ${reason}`, { 'retry-after': '1' });
    return;
  }
  const sample = await opts.sample();
  if (!sample) {
    sendText(res, 404, NO_SAMPLE);
    return;
  }
  res.writeHead(200, { 'content-type': sample.contentType, 'content-length': sample.body.length, 'cache-control': 'no-store' });
  res.end(method === 'HEAD' ? undefined : sample.body);
}
