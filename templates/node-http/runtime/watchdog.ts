/**
 * The part of an OpenFaaS-style watchdog every template runtime shares: an HTTP server whose
 * `GET /_/health` answers 200 when the replica can serve (503 with a reason while it cannot, or
 * while draining), `GET /_/sample` answering a representative request body of the function with
 * its content type (what the profiler loads a replica with when it was given no input; 404 when
 * the function has none), every other request handed to `handle`, in-flight requests tracked so
 * that `drain()` stops accepting connections and resolves once they have finished, and an
 * optional request log line (write_debug=true).
 *
 * With a forward token (FASTGSHARE_FORWARD_TOKEN) every request, health and sample included, must
 * carry it in FORWARD_TOKEN_HEADER (compared in constant time), else 403: the replica's port then
 * serves only the platform, so a direct call cannot bypass the gateway's invoke auth. The header is
 * removed before the handler sees the request.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { sendText } from './response.ts';

export const HEALTH_PATH = '/_/health';
/** Reserved path: a sample request body of the function (GET), for profiling without user input. */
export const SAMPLE_PATH = '/_/sample';
/**
 * The platform's forward-token header (core/contracts/node-agent.ts FORWARD_TOKEN_HEADER; templates stay
 * self-contained).
 */
export const FORWARD_TOKEN_HEADER = 'x-fastgshare-forward';

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
  /** Requests without this value in FORWARD_TOKEN_HEADER get 403 (see above); undefined: no check. */
  forwardToken?: string;
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
        opts.stdout.write(
          `${new Date().toISOString()} ${(req.method ?? 'GET').toUpperCase()} ${req.url} ${res.statusCode} ${ms.toFixed(1)}ms\n`,
        );
      }
    }
  };

  const forwarded = opts.forwardToken === undefined ? undefined : forwardCheck(opts.forwardToken);
  const server = createServer((req, res) => {
    if (forwarded && !forwarded(req)) {
      req.resume();
      sendText(
        res,
        403,
        'this replica serves only requests forwarded by the platform: call the function through the gateway (/function/<name>)',
        { connection: 'close' },
      );
      return;
    }
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

/** True when the request carries the token; the header is then taken out of the request. */
function forwardCheck(token: string): (req: IncomingMessage) => boolean {
  const expected = createHash('sha256').update(token).digest();
  return (req) => {
    const given = req.headers[FORWARD_TOKEN_HEADER];
    const ok =
      timingSafeEqual(
        createHash('sha256')
          .update(typeof given === 'string' ? given : '')
          .digest(),
        expected,
      ) && typeof given === 'string';
    delete req.headers[FORWARD_TOKEN_HEADER];
    for (let i = req.rawHeaders.length - 2; i >= 0; i -= 2) {
      if (req.rawHeaders[i]!.toLowerCase() === FORWARD_TOKEN_HEADER) req.rawHeaders.splice(i, 2);
    }
    return ok;
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
  res.writeHead(200, {
    'content-type': sample.contentType,
    'content-length': sample.body.length,
    'cache-control': 'no-store',
  });
  res.end(method === 'HEAD' ? undefined : sample.body);
}
