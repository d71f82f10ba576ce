/**
 * The replica's HTTP server (OpenFaaS watchdog conventions): `GET /_/health` answers 200 while
 * the replica serves (503 while draining); every other method and path goes to the handler.
 * `drain()` stops accepting connections and resolves once in-flight requests have finished.
 */
import type { IncomingMessage } from 'node:http';
import { BodyTooLargeError, readBody } from './body.ts';
import { sendResult, sendText } from './response.ts';
import type { Handler, HandlerContext, HandlerEvent } from './types.ts';
import { createWatchdog, type Output, type Watchdog } from './watchdog.ts';

export { type Output } from './watchdog.ts';

export interface ReplicaServerOptions {
  handler: Handler;
  context: HandlerContext;
  maxBodyBytes: number;
  debug: boolean;
  /** Request log lines (write_debug=true). */
  stdout: Output;
  /** Handler errors. */
  stderr: Output;
  /** FASTGSHARE_FORWARD_TOKEN: requests without it get 403 (watchdog.ts). */
  forwardToken?: string;
}

export type ReplicaServer = Watchdog;

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
  return createWatchdog({
    debug: opts.debug,
    stdout: opts.stdout,
    forwardToken: opts.forwardToken,
    async handle(req, res) {
      try {
        const body = await readBody(req, opts.maxBodyBytes);
        const result = await opts.handler(toEvent(req, body), opts.context);
        sendResult(res, result);
      } catch (err) {
        if (err instanceof BodyTooLargeError) {
          sendText(res, 413, err.message, { connection: 'close' });
        } else {
          const message = err instanceof Error ? err.message : String(err);
          opts.stderr.write(
            `handler error: ${method(req)} ${req.url}: ${err instanceof Error && err.stack ? err.stack : message}\n`,
          );
          sendText(res, statusOf(err), message || 'internal error');
        }
      }
    },
  });
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
