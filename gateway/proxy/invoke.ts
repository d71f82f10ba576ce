/**
 * `/function/{name}[.{namespace}][/{path…}]`, any method: finds a ready replica (waiting a
 * bounded time for one), streams the request to it and the answer back. The body is never
 * parsed; its size is checked while it streams. A replica that refuses the connection (nothing
 * was delivered) is skipped for another; any other failure is the client's 502 or 504.
 * The answer's `Server-Timing` header gets the gateway's stage appended to the replica's:
 * `gateway;dur=…`, the time spent in the gateway up to the response headers, less the upstream
 * (the replica that answered, from request sent to response headers).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ReplicaStatus } from '../../core/contracts/node-agent.ts';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import { PlatformError, toPlatformError } from '../../core/errors.ts';
import { parseQualifiedName } from '../../core/names.ts';
import { sendError } from '../http/send-error.ts';
import { functionKey, type ReplicaDirectory } from '../nodes/replica-directory.ts';
import type { InvocationEnd, InvocationObserver, InvocationStart } from '../observers/invocation-observer.ts';
import type { Balancer } from './balancer.ts';
import type { Forwarder } from './forwarder.ts';
import { createReplayableBody } from './replayable-body.ts';
import { stripRequestHopByHop, unixNanos } from './headers.ts';
import { formatServerTiming } from '../../core/net/server-timing.ts';

export type InvokeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface InvokeDeps {
  directory: ReplicaDirectory;
  /** Whether the store knows the function (`name.namespace`). */
  exists: (key: string) => boolean;
  balancer: Balancer;
  forwarder: Forwarder;
  observer: Required<InvocationObserver>;
  clock: Clock;
  log: Logger;
  maxBodyBytes: number;
  readyTimeoutMs: number;
  upstreamTimeoutMs: number;
  /** Body bytes kept to replay on another replica after a refused connection (default 1 MiB). */
  replayBytes?: number;
  /** Replicas tried at most per invocation (default 3). */
  maxAttempts?: number;
}

/** Splits the URL below the mount point: `/name.ns/sub/path?q` → name, upstream path. */
export function splitInvocationUrl(url: string): { rawName: string; upstreamPath: string } {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q);
  const trimmed = path.replace(/^\/+/, '');
  const slash = trimmed.indexOf('/');
  let rawName: string;
  try {
    rawName = decodeURIComponent(slash === -1 ? trimmed : trimmed.slice(0, slash));
  } catch {
    throw new PlatformError('invalid_name', 'the function name in the URL is not valid percent-encoding');
  }
  const sub = slash === -1 ? '/' : trimmed.slice(slash) || '/';
  return { rawName, upstreamPath: sub + query };
}

export function createInvokeHandler(d: InvokeDeps): InvokeHandler {
  const replayBytes = d.replayBytes ?? 1024 * 1024;
  const maxAttempts = d.maxAttempts ?? 3;

  return async (req, res) => {
    const arrivedAt = performance.now(); // a measurement for Server-Timing, not logic: real time
    let rawName: string, upstreamPath: string;
    try {
      ({ rawName, upstreamPath } = splitInvocationUrl(req.url ?? '/'));
    } catch (err) {
      return sendError(res, toPlatformError(err));
    }
    if (!rawName)
      return sendError(
        res,
        new PlatformError('not_found', 'no function named: call /function/NAME[.NAMESPACE][/path]'),
      );
    let name: string, namespace: string;
    try {
      ({ name, namespace } = parseQualifiedName(rawName));
    } catch (err) {
      return sendError(res, toPlatformError(err));
    }
    const key = functionKey(name, namespace);
    if (!d.exists(key)) {
      return sendError(
        res,
        new PlatformError(
          'not_found',
          `function "${name}" not found in namespace "${namespace}"; deploy it first (faas-cli deploy) or check the name with faas-cli list -n ${namespace}`,
        ),
      );
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > d.maxBodyBytes) return tooLarge(res, req, d.maxBodyBytes);

    const callId =
      typeof req.headers['x-call-id'] === 'string' && req.headers['x-call-id']
        ? req.headers['x-call-id']
        : randomUUID();
    const start: InvocationStart = {
      function: key,
      name,
      namespace,
      callId,
      method: req.method ?? 'GET',
      startedAt: d.clock.now(),
    };
    prepareHeaders(req, callId, start.startedAt);
    req.url = upstreamPath;
    d.observer.started(start);

    const finish = (status: number, extra: Partial<InvocationEnd> = {}) =>
      d.observer.finished({
        ...start,
        status,
        durationSeconds: (d.clock.now() - start.startedAt) / 1000,
        requestBytes: body.bytesRead,
        ...extra,
      });
    const fail = (err: PlatformError, replica?: ReplicaStatus) => {
      if (!res.headersSent) {
        res.setHeader('X-Call-Id', callId);
        res.setHeader('X-Duration-Seconds', ((d.clock.now() - start.startedAt) / 1000).toFixed(6));
      }
      sendError(res, err);
      finish(err.status, { error: err.code, replicaId: replica?.id, node: replica?.node });
    };

    let overLimit = false;
    let abortAttempt: (() => void) | undefined;
    const body = createReplayableBody(req, {
      limitBytes: d.maxBodyBytes,
      keepBytes: replayBytes,
      onTooLarge: () => {
        overLimit = true;
        abortAttempt?.();
      },
    });

    let candidates = d.directory.ready(key);
    if (candidates.length === 0) candidates = await d.directory.waitForReady(key, d.readyTimeoutMs);
    if (candidates.length === 0) {
      return fail(
        new PlatformError(
          'no_replicas',
          `function "${key}" has no ready replica after waiting ${d.readyTimeoutMs} ms; check it with faas-cli describe ${name} -n ${namespace} and faas-cli logs ${name} -n ${namespace}`,
        ),
      );
    }

    const tried = new Set<string>();
    const clientGone = () => res.destroyed || res.writableEnded;
    let lastRefusal: Error | undefined;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const left = candidates.filter((r) => !tried.has(r.id));
      if (left.length === 0) break;
      if (clientGone()) return finish(499, { error: 'upstream_failed' });
      const replica = d.balancer.pick(key, left);
      tried.add(replica.id);
      const end = d.balancer.begin(replica.id);
      const a = d.forwarder.forward(req, res, {
        target: replica.url,
        forwardToken: replica.forwardToken,
        body,
        timeoutMs: d.upstreamTimeoutMs,
        responseHeaders: ({ upstreamMs }) => ({
          'X-Call-Id': callId,
          'X-Duration-Seconds': ((d.clock.now() - start.startedAt) / 1000).toFixed(6),
          'Server-Timing': gatewayTiming(performance.now() - arrivedAt - upstreamMs),
        }),
      });
      abortAttempt = a.abort;
      const outcome = await a.done;
      end();
      abortAttempt = undefined;
      if (overLimit) {
        if (!res.headersSent) res.setHeader('Connection', 'close');
        req.resume();
        return fail(payloadTooLarge(d.maxBodyBytes), replica);
      }
      switch (outcome.kind) {
        case 'response':
          return finish(outcome.status, { replicaId: replica.id, node: replica.node });
        case 'timeout':
          return fail(
            new PlatformError(
              'upstream_timeout',
              `function "${key}" did not answer within ${d.upstreamTimeoutMs} ms (replica ${replica.id}); make it faster or raise FASTGSHARE_UPSTREAM_TIMEOUT_MS`,
            ),
            replica,
          );
        case 'aborted':
          return finish(499, { replicaId: replica.id, node: replica.node, error: 'upstream_failed' });
        case 'failed':
          if (res.headersSent || res.destroyed)
            return finish(res.headersSent ? res.statusCode : 499, {
              replicaId: replica.id,
              node: replica.node,
              error: 'upstream_failed',
            });
          return fail(
            new PlatformError(
              'upstream_failed',
              `replica ${replica.id} of function "${key}" failed: ${outcome.error.message}; see faas-cli logs ${name} -n ${namespace}`,
            ),
            replica,
          );
        case 'refused':
          lastRefusal = outcome.error;
          d.log.warn('replica refused the connection; trying another', {
            function: key,
            replica: replica.id,
            url: replica.url,
          });
          if (!body.replayable) {
            return fail(
              new PlatformError(
                'upstream_failed',
                `replica ${replica.id} of function "${key}" refused the connection and the request body is too large to replay; retry the call`,
              ),
              replica,
            );
          }
          candidates = d.directory.ready(key);
      }
    }
    fail(
      new PlatformError(
        'upstream_failed',
        `no replica of function "${key}" accepted the connection (${lastRefusal?.message ?? 'refused'}); its replicas may be restarting, retry shortly`,
      ),
    );
  };
}

/** The gateway's Server-Timing metric (W3C: `name;dur=ms`). */
export function gatewayTiming(ms: number): string {
  return formatServerTiming([{ name: 'gateway', dur: ms }]);
}

function payloadTooLarge(limit: number): PlatformError {
  return new PlatformError(
    'payload_too_large',
    `request body is larger than the ${limit} bytes allowed; send a smaller body or raise FASTGSHARE_MAX_BODY_BYTES`,
    { details: { limit } },
  );
}

function tooLarge(res: ServerResponse, req: IncomingMessage, limit: number): void {
  res.setHeader('Connection', 'close');
  sendError(res, payloadTooLarge(limit));
  req.resume();
}

function prepareHeaders(req: IncomingMessage, callId: string, startedAt: number): void {
  const h = req.headers;
  const host = h.host;
  stripRequestHopByHop(h);
  h['x-call-id'] = callId;
  h['x-start-time'] = unixNanos(startedAt);
  const client = req.socket.remoteAddress ?? '';
  h['x-forwarded-for'] = h['x-forwarded-for'] ? `${h['x-forwarded-for']}, ${client}` : client;
  if (!h['x-forwarded-host'] && host) h['x-forwarded-host'] = host;
  if (!h['x-forwarded-proto']) h['x-forwarded-proto'] = 'http';
}
