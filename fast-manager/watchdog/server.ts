/**
 * The built-in watchdog's HTTP side, for functions whose process does not serve HTTP itself (the
 * OpenFaaS classic watchdog model): `GET /_/health` answers 200 while it accepts requests (503
 * while draining); every other request (GET, POST, PUT, PATCH, DELETE) forks the function's
 * process once (fork-request.ts) with the body on stdin and answers with what it printed:
 *
 * - exit 0 → 200 with stdout (and stderr, unless combine_output=false), `Content-Type` from
 *   `content_type` or else the request's, and `X-Duration-Seconds`;
 * - another exit status or a signal → 500 with `exit status N` and the process's stderr (and
 *   stdout when combined), so the caller sees why;
 * - exec_timeout passed → 408 (as the classic watchdog), write_timeout passed → 504; the process
 *   and everything it started are killed either way; read_timeout passed while reading the body → 408;
 * - over max_inflight requests at once → 429; a body over max_body_bytes → 413;
 * - `GET /_/sample` (reserved: the profiler's sample request) → 404 saying how to give one.
 *
 * Like the templates' runtime, with a forward token every request must carry it (403 otherwise),
 * so the replica's port serves only the platform. SIGTERM drains: no new connections, in-flight
 * requests finish.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { FORWARD_TOKEN_HEADER } from '../../core/contracts/node-agent.ts';
import type { ForkingWatchdogConfig } from './config.ts';
import { cgiEnvironment } from './cgi-env.ts';
import { runForked, type ForkOutcome } from './fork-request.ts';
import { HEALTH_PATH } from '../../core/contracts/replica-http.ts';

/** Reserved for the profiler's sample request body; a classic function has none. */
export const SAMPLE_PATH = '/_/sample';
const NO_SAMPLE =
  'this function serves no sample request (it runs under the built-in watchdog): to profile it, give the request body yourself: ' +
  'POST /system/profiles/<function> {"input": {"base64": "...", "contentType": "..."}} (CLI: fastgshare profile <function> --data-file FILE --content-type TYPE)\n';
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

export interface ForkingWatchdogOptions {
  config: ForkingWatchdogConfig;
  /** Working directory of the forked processes (the bundle). */
  cwd: string;
  /** Their environment before the request's `Http_*` variables. */
  env: Record<string, string>;
  /** One line to the function's log. */
  log(line: string): void;
}

export interface ForkingWatchdog {
  server: Server;
  listen(port: number, host: string): Promise<number>;
  drain(): Promise<void>;
}

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(3))}s`;

function send(res: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    ...headers,
    'content-length': String(buf.length),
  });
  res.end(buf);
}

/** True when the request carries the token; the header is taken out either way. */
function forwardCheck(token: string): (req: IncomingMessage) => boolean {
  const expected = createHash('sha256').update(token).digest();
  return (req) => {
    const given = req.headers[FORWARD_TOKEN_HEADER];
    const ok = typeof given === 'string' && timingSafeEqual(createHash('sha256').update(given).digest(), expected);
    delete req.headers[FORWARD_TOKEN_HEADER];
    return ok;
  };
}

/** Without a declared type: text when the output is UTF-8 text, else bytes (as Go's content sniffing decides). */
function sniff(b: Buffer): string {
  const head = b.subarray(0, 512);
  if (head.includes(0)) return 'application/octet-stream';
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true }); // a character cut at 512 bytes is fine
    return 'text/plain; charset=utf-8';
  } catch {
    return 'application/octet-stream';
  }
}

type BodyResult = { ok: true; body: Buffer } | { ok: false; status: number; message: string };

function readBody(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (r: BodyResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (!r.ok) req.resume();
      resolve(r);
    };
    const timer =
      timeoutMs > 0
        ? setTimeout(
            () =>
              finish({
                ok: false,
                status: 408,
                message: `the request body did not arrive within read_timeout (${seconds(timeoutMs)})\n`,
              }),
            timeoutMs,
          )
        : undefined;
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > maxBytes)
        return finish({
          ok: false,
          status: 413,
          message: `the request body is larger than max_body_bytes (${maxBytes} bytes)\n`,
        });
      chunks.push(c);
    });
    req.once('end', () => finish({ ok: true, body: Buffer.concat(chunks) }));
    req.once('error', (err) =>
      finish({ ok: false, status: 400, message: `cannot read the request body: ${err.message}\n` }),
    );
    // closed before its end (the caller went away): nothing to answer, nothing to fork
    req.once('close', () => finish({ ok: false, status: 400, message: 'the request body was cut off\n' }));
  });
}

export function createForkingWatchdog(o: ForkingWatchdogOptions): ForkingWatchdog {
  const c = o.config;
  let draining = false;
  let inFlight = 0;
  const open = new Set<ServerResponse>();
  let idle: (() => void) | undefined;
  const forwarded = c.forwardToken === undefined ? undefined : forwardCheck(c.forwardToken);

  const answer = (req: IncomingMessage, res: ServerResponse, outcome: ForkOutcome, startedMs: number) => {
    const took = Date.now() - startedMs;
    switch (outcome.kind) {
      case 'aborted':
        return;
      case 'not-started':
        o.log(`watchdog: cannot start fprocess "${c.fprocess}": ${outcome.error.message}`);
        return send(res, 500, `cannot start the function's process "${c.argv[0]}": ${outcome.error.message}\n`);
      case 'timeout': {
        o.log(
          `watchdog: killed "${c.fprocess}" after ${seconds(took)}: ${outcome.limit} (${seconds(outcome.ms)}) passed`,
        );
        const hint = `raise ${outcome.limit === 'exec_timeout' ? 'exec_timeout (and write_timeout)' : 'write_timeout (and exec_timeout)'} in the function's environment for longer calls`;
        if (outcome.limit === 'exec_timeout')
          return send(res, 408, `Killed process: it ran longer than exec_timeout (${seconds(outcome.ms)}); ${hint}\n`);
        return send(
          res,
          504,
          `Killed process: the function did not answer within write_timeout (${seconds(outcome.ms)}); ${hint}\n`,
        );
      }
      case 'killed':
      case 'exited': {
        if (outcome.kind === 'exited' && outcome.code === 0) {
          if (!c.combineOutput && outcome.stderr.length) o.log(`stderr: ${outcome.stderr.toString('utf8').trimEnd()}`);
          const type =
            c.contentType ??
            (typeof req.headers['content-type'] === 'string' ? req.headers['content-type'] : undefined);
          return send(res, 200, outcome.output, {
            'content-type': type ?? sniff(outcome.output),
            'x-duration-seconds': (took / 1000).toFixed(6),
          });
        }
        const status = outcome.kind === 'exited' ? `exit status ${outcome.code}` : `killed by ${outcome.signal}`;
        o.log(`watchdog: "${c.fprocess}" failed: ${status}`);
        if (!c.combineOutput && outcome.stderr.length) o.log(`stderr: ${outcome.stderr.toString('utf8').trimEnd()}`);
        // the error, then what the process said: its combined output, or its stderr when kept apart
        return send(
          res,
          500,
          Buffer.concat([Buffer.from(`${status}\n`), c.combineOutput ? outcome.output : outcome.stderr]),
        );
      }
    }
  };

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const started = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    if (!METHODS.has(method)) {
      req.resume();
      return send(res, 405, `${method} is not supported; the function answers GET, POST, PUT, PATCH and DELETE\n`, {
        allow: [...METHODS].join(', '),
      });
    }
    const body = await readBody(req, c.maxBodyBytes, c.readTimeoutMs);
    if (!body.ok) return send(res, body.status, body.message, { connection: 'close' });
    const gone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    const env = c.cgiHeaders ? { ...o.env, ...cgiEnvironment(req) } : o.env;
    const outcome = await runForked({
      argv: c.argv,
      cwd: o.cwd,
      env,
      body: body.body,
      combineOutput: c.combineOutput,
      execTimeoutMs: c.execTimeoutMs,
      writeTimeoutMs: c.writeTimeoutMs,
      elapsedMs: Date.now() - started,
      signal: gone.signal,
    });
    answer(req, res, outcome, started);
    if (c.writeDebug)
      o.log(`${new Date().toISOString()} ${method} ${req.url} ${res.statusCode} ${Date.now() - started}ms`);
  };

  const server = createServer((req, res) => {
    if (forwarded && !forwarded(req)) {
      req.resume();
      return send(
        res,
        403,
        'this replica serves only requests forwarded by the platform: call the function through the gateway (/function/<name>)\n',
        { connection: 'close' },
      );
    }
    if (req.url === HEALTH_PATH || req.url?.startsWith(HEALTH_PATH + '?')) {
      req.resume();
      return send(res, draining ? 503 : 200, draining ? 'draining\n' : 'OK');
    }
    if (req.url === SAMPLE_PATH || req.url?.startsWith(SAMPLE_PATH + '?')) {
      // the platform's reserved path (the profiler's sample request), as in the templates' runtime
      req.resume();
      return send(res, 404, NO_SAMPLE);
    }
    if (c.maxInflight > 0 && inFlight >= c.maxInflight) {
      req.resume();
      return send(res, 429, `the function is busy: max_inflight (${c.maxInflight}) requests are running\n`);
    }
    inFlight++;
    open.add(res);
    if (draining) res.setHeader('connection', 'close');
    res.once('close', () => {
      inFlight--;
      open.delete(res);
      if (draining && open.size === 0) idle?.();
    });
    serve(req, res).catch((err: Error) => send(res, 500, `watchdog error: ${err.message}\n`));
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
      for (const res of open) if (!res.headersSent) res.setHeader('connection', 'close');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const quiet = open.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => (idle = resolve));
      return quiet.then(() => {
        server.closeAllConnections();
        return closed;
      });
    },
  };
}
