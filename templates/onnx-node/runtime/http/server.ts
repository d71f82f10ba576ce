/**
 * The model function's HTTP server (OpenFaaS watchdog conventions): `GET /_/health` answers 503
 * until the model is loaded and warmed up (`setReady()`), then 200 (503 again while draining).
 * `GET /_/sample` answers the model service's sample request body (the one it warms up with) with
 * its content type, 404 when the service has none (the profiler loads a replica with it).
 * `GET` on any other path describes the function; every other request is an invocation: the body
 * (at most `maxBodyBytes`, else 413) goes to the model service and its result comes back as JSON.
 * A PlatformError answers with its code's status and message: 400 bad input, 429 at once when the
 * SLO cannot be met, 413 too large; anything else is a 500.
 * Every invocation's answer carries a `Server-Timing` header with where its time went in the
 * replica (body, decode, batch, token, prep, infer, encode: server-timing.ts).
 */
import type { ServerResponse } from 'node:http';
import { httpStatusFor, isErrorCode } from 'fastgshare/core/errors.ts';
import { BodyTooLargeError, readBody } from 'fastgshare/templates/node-http/runtime/body.ts';
import { sendText } from 'fastgshare/templates/node-http/runtime/response.ts';
import { createWatchdog, type Output, type Watchdog } from 'fastgshare/templates/node-http/runtime/watchdog.ts';
import { createServerTiming, SERVER_TIMING_HEADER, type ServerTiming } from '../server-timing.ts';
import type { ModelService } from '../service.ts';

export { type Output } from 'fastgshare/templates/node-http/runtime/watchdog.ts';

export interface ModelServerOptions {
  maxBodyBytes: number;
  debug: boolean;
  /** What `GET` answers (function, device, settings). */
  describe(): Record<string, unknown>;
  stdout: Output;
  stderr: Output;
  /** FASTGSHARE_FORWARD_TOKEN: requests without it get 403 (node-http watchdog). */
  forwardToken?: string;
}

export interface ModelServer extends Watchdog {
  /** The model is loaded and warm: health turns 200 and invocations are served. */
  setReady(service: ModelService): void;
}

function sendJson(res: ServerResponse, status: number, value: unknown, timing?: ServerTiming): void {
  const t = performance.now();
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  timing?.add('encode', performance.now() - t);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': body.length,
    ...(timing ? { [SERVER_TIMING_HEADER]: timing.header() } : {}),
  });
  res.end(body);
}

/** The status of a thrown error: its PlatformError code's, else 500. */
export function statusOfError(err: unknown): number {
  const code = (err as { code?: unknown } | null)?.code;
  return isErrorCode(code) ? httpStatusFor(code) : 500;
}

export function createModelServer(opts: ModelServerOptions): ModelServer {
  let service: ModelService | undefined;
  const watchdog = createWatchdog({
    debug: opts.debug,
    stdout: opts.stdout,
    forwardToken: opts.forwardToken,
    notReady: () => (service ? undefined : 'loading model'),
    sample: async () => service?.sample?.(),
    async handle(req, res) {
      const timing = createServerTiming();
      const timed = (): Record<string, string> => {
        const h = timing.header();
        return h ? { [SERVER_TIMING_HEADER]: h } : {};
      };
      try {
        if ((req.method ?? 'GET').toUpperCase() === 'GET') {
          req.resume();
          sendJson(res, 200, { ...opts.describe(), ready: service !== undefined, stats: service?.stats() });
          return;
        }
        const t = performance.now();
        const body = await readBody(req, opts.maxBodyBytes);
        timing.add('body', performance.now() - t);
        if (!service) {
          sendText(res, 503, 'the model is still loading', { 'retry-after': '1', ...timed() });
          return;
        }
        const result = await service.invoke(body, req.headers['content-type'], timing);
        sendJson(res, 200, result, timing);
      } catch (err) {
        if (err instanceof BodyTooLargeError) {
          sendText(res, 413, err.message, { connection: 'close', ...timed() });
          return;
        }
        const status = statusOfError(err);
        const message = err instanceof Error ? err.message : String(err);
        if (status >= 500)
          opts.stderr.write(`invocation failed: ${err instanceof Error && err.stack ? err.stack : message}\n`);
        sendText(res, status, message || 'internal error', {
          ...(status === 429 ? { 'retry-after': '1' } : {}),
          ...timed(),
        });
      }
    },
  });
  return {
    ...watchdog,
    setReady(s) {
      service = s;
    },
  };
}
