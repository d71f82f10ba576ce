/**
 * One attempt to pass an invocation to one replica, through http-proxy. The response is
 * streamed to the client with hop-by-hop headers dropped and the gateway's own headers added;
 * the outcome says whether the replica answered, refused the connection (nothing delivered:
 * safe to retry), timed out, or failed. Every forwarded request carries the replica's forward
 * token (FORWARD_TOKEN_HEADER, from its ReplicaStatus), set here over anything the client sent under
 * that name, since a replica answers 403 to requests without it.
 * The gateway's own headers are computed when the replica's answer arrives, knowing how long the
 * replica took (`upstreamMs`: request sent → response headers); a `Server-Timing` among them is
 * appended to the replica's (W3C Server Timing), any other replaces the replica's.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import httpProxy from 'http-proxy';
import type { ReplayableBody } from './replayable-body.ts';
import { endToEndHeaders } from './headers.ts';
import { FORWARD_TOKEN_HEADER } from '../../core/contracts/node-agent.ts';
import { appendServerTiming, SERVER_TIMING_HEADER } from '../../core/net/server-timing.ts';

export type ForwardOutcome =
  | { kind: 'response'; status: number }
  | { kind: 'refused'; error: Error }
  | { kind: 'timeout' }
  | { kind: 'aborted' }
  | { kind: 'failed'; error: Error; responseStarted: boolean };

/** How long the replica took to answer, ms: from sending the request to its response headers. */
export interface UpstreamTiming {
  upstreamMs: number;
}

export interface ForwardAttempt {
  done: Promise<ForwardOutcome>;
  /** Stops the attempt (e.g. the body went over the limit); `done` resolves `aborted`. */
  abort(): void;
}

export interface Forwarder {
  forward(
    req: IncomingMessage,
    res: ServerResponse,
    opts: {
      target: string;
      forwardToken?: string;
      body: ReplayableBody;
      timeoutMs: number;
      responseHeaders: (upstream: UpstreamTiming) => Record<string, string>;
    },
  ): ForwardAttempt;
  close(): void;
}

interface Attempt {
  proxyReq?: http.ClientRequest;
  timer?: NodeJS.Timeout;
  timedOut: boolean;
  aborted: boolean;
  responseStarted: boolean;
  responseHeaders: (upstream: UpstreamTiming) => Record<string, string>;
  /** performance.now() when the request to the replica was made. */
  sentAt?: number;
  timeoutMs: number;
  settle: (o: ForwardOutcome) => void;
}

export function createForwarder(): Forwarder {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, keepAliveMsecs: 1_000 });
  const proxy = httpProxy.createProxyServer({ agent, selfHandleResponse: true, xfwd: false, ws: false });
  const attempts = new WeakMap<IncomingMessage, Attempt>();

  proxy.on('proxyReq', (proxyReq, req) => {
    const a = attempts.get(req);
    if (!a) return;
    a.proxyReq = proxyReq;
    a.sentAt = performance.now();
    a.timer = setTimeout(() => {
      a.timedOut = true;
      proxyReq.destroy(new Error(`no answer within ${a.timeoutMs} ms`));
    }, a.timeoutMs);
  });

  proxy.on('proxyRes', (proxyRes, req, res) => {
    const a = attempts.get(req);
    if (!a) return;
    clearTimeout(a.timer);
    a.responseStarted = true;
    const status = proxyRes.statusCode ?? 502;
    res.statusCode = status;
    if (proxyRes.statusMessage) res.statusMessage = proxyRes.statusMessage;
    for (const [k, v] of endToEndHeaders(proxyRes.headers)) res.setHeader(k, v);
    const upstreamMs = a.sentAt === undefined ? 0 : performance.now() - a.sentAt;
    for (const [k, v] of Object.entries(a.responseHeaders({ upstreamMs }))) {
      if (k.toLowerCase() !== SERVER_TIMING_HEADER) {
        res.setHeader(k, v);
        continue;
      }
      const replicas = res.getHeader(k);
      res.setHeader(k, appendServerTiming(typeof replicas === 'number' ? String(replicas) : replicas, v));
    }
    proxyRes.on('error', (err) => {
      res.destroy(err);
      a.settle({ kind: 'failed', error: err, responseStarted: true });
    });
    proxyRes.on('aborted', () => res.destroy());
    res.on('finish', () => a.settle({ kind: 'response', status }));
    res.on('close', () => {
      if (!res.writableFinished)
        a.settle({
          kind: 'failed',
          error: new Error('the connection closed before the response ended'),
          responseStarted: true,
        });
    });
    proxyRes.pipe(res);
  });

  return {
    forward(req, res, opts) {
      let settle!: (o: ForwardOutcome) => void;
      const done = new Promise<ForwardOutcome>((resolve) => {
        let settled = false;
        settle = (o) => {
          if (settled) return;
          settled = true;
          clearTimeout(a.timer);
          resolve(o);
        };
      });
      const a: Attempt = {
        timedOut: false,
        aborted: false,
        responseStarted: false,
        responseHeaders: opts.responseHeaders,
        timeoutMs: opts.timeoutMs,
        settle,
      };
      attempts.set(req, a);
      if (res.destroyed) {
        settle({ kind: 'failed', error: new Error('the client closed the connection'), responseStarted: false });
        return { done, abort() {} };
      }
      res.once('close', () =>
        settle({
          kind: 'failed',
          error: new Error('the client closed the connection'),
          responseStarted: a.responseStarted,
        }),
      );
      const buffer = opts.body.open();
      // the client's own value under this name never reaches the replica; the replica's token is
      // given as an option header (set when the request is made, before anything is written)
      delete req.headers[FORWARD_TOKEN_HEADER];
      proxy.web(
        req,
        res,
        {
          target: opts.target,
          buffer,
          ...(opts.forwardToken ? { headers: { [FORWARD_TOKEN_HEADER]: opts.forwardToken } } : {}),
        },
        (err: Error & { code?: string }) => {
          if (a.aborted) return settle({ kind: 'aborted' });
          if (a.timedOut) return settle({ kind: 'timeout' });
          if (err.code === 'ECONNREFUSED' && !a.responseStarted) return settle({ kind: 'refused', error: err });
          settle({ kind: 'failed', error: err, responseStarted: a.responseStarted });
        },
      );
      return {
        done,
        abort() {
          a.aborted = true;
          a.proxyReq?.destroy();
          settle({ kind: 'aborted' });
        },
      };
    },
    close() {
      proxy.close();
      agent.destroy();
    },
  };
}
