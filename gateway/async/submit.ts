/**
 * `/async-function/{name}[.{namespace}][/{path…}]`, any method: checks the function exists and
 * the callback URL is valid, reads the body (bounded), and queues the call under its call id
 * (the client's X-Call-Id when it sent one, so a resubmission is not run twice). Answers 202
 * with X-Call-Id and an empty body; 503 when the queue cannot take the call right now.
 * Runs behind invoke auth (gateway/tenants/invoke-auth.ts), which has already authenticated the
 * caller: the job keeps whom the call was accepted as, never the caller's credentials.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PlatformError, toPlatformError } from '../../core/errors.ts';
import { parseQualifiedName } from '../../core/names.ts';
import type { Clock } from '../../core/clock.ts';
import { sendError } from '../http/send-error.ts';
import { functionKey } from '../nodes/replica-directory.ts';
import { splitInvocationUrl } from '../proxy/invoke.ts';
import { CREDENTIAL_HEADERS, hopByHop } from '../proxy/headers.ts';
import type { InvocationCaller } from '../../core/contracts/tenants.ts';
import { parseCallbackUrl } from './callback.ts';
import type { CallbackPolicy } from './callback-policy.ts';
import type { AsyncJobData } from './job.ts';
import { readBoundedBody } from './read-body.ts';

/** The queue as the submission route sees it. */
export interface AsyncQueue {
  /** Whether Redis is reachable right now (submissions fail fast with 503 when not). */
  ready(): boolean;
  /** Adds the call under `data.callId`; a call id already queued is not added again. */
  add(data: AsyncJobData): Promise<void>;
}

export interface SubmitDeps {
  queue: AsyncQueue;
  exists: (key: string) => boolean;
  clock: Clock;
  maxBodyBytes: number;
  submitTimeoutMs: number;
  onSubmitted?: (fn: string) => void;
  /** Whom invoke auth accepted the request as (stored with the job instead of its credentials; default anonymous). */
  callerOf?: (req: IncomingMessage) => InvocationCaller;
  /** Refuses callback destinations known to be disallowed without DNS (400 at submission). */
  callbackPolicy?: CallbackPolicy;
}

/** Call ids become BullMQ job ids: no ':' and not all digits (BullMQ rules), bounded. */
const CALL_ID = /^(?!\d+$)[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const DROP = ['host', 'content-length', 'x-callback-url', 'x-call-id', 'x-start-time'];

export function createAsyncSubmitHandler(d: SubmitDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    try {
      const data = await accept(req, res);
      await withTimeout(d.queue.add(data), d.submitTimeoutMs, data.callId);
      d.onSubmitted?.(data.function);
      res.statusCode = 202;
      res.setHeader('X-Call-Id', data.callId);
      res.setHeader('Content-Length', '0');
      res.end();
    } catch (err) {
      const pe = toPlatformError(err);
      const wrapped =
        pe.code === 'internal'
          ? new PlatformError(
              'unavailable',
              `the async queue could not take the call: ${pe.message}; retry with the same X-Call-Id`,
              { cause: err },
            )
          : pe;
      if (wrapped.code === 'payload_too_large' || wrapped.code === 'bad_request') res.setHeader('Connection', 'close');
      sendError(res, wrapped);
    }
  };

  async function accept(req: IncomingMessage, res: ServerResponse): Promise<AsyncJobData> {
    const { rawName, upstreamPath } = splitInvocationUrl(req.url ?? '/');
    if (!rawName)
      throw new PlatformError('not_found', 'no function named: call /async-function/NAME[.NAMESPACE][/path]');
    const { name, namespace } = parseQualifiedName(rawName);
    const key = functionKey(name, namespace);
    if (!d.exists(key))
      throw new PlatformError(
        'not_found',
        `function "${name}" not found in namespace "${namespace}"; deploy it first (faas-cli deploy) or check the name with faas-cli list -n ${namespace}`,
      );
    const callbackUrl = parseCallbackUrl(req.headers['x-callback-url'], d.callbackPolicy);
    const given = req.headers['x-call-id'];
    if (given !== undefined && (typeof given !== 'string' || !CALL_ID.test(given))) {
      throw new PlatformError(
        'bad_request',
        'X-Call-Id must be 1-128 letters, digits, "_", "." or "-" (not only digits); leave it out to get a generated one',
      );
    }
    const callId = given || randomUUID();
    res.setHeader('X-Call-Id', callId);
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > d.maxBodyBytes) throw tooLarge(d.maxBodyBytes);
    if (!d.queue.ready())
      throw new PlatformError(
        'unavailable',
        'the async queue (Redis) is not reachable right now; retry shortly with the same X-Call-Id (sync calls on /function/ still work)',
      );
    const body = await readBoundedBody(req, d.maxBodyBytes, 'async calls (FASTGSHARE_ASYNC_MAX_BODY_BYTES)');
    const caller = d.callerOf?.(req) ?? { kind: 'anonymous' };
    return {
      callId,
      function: key,
      method: req.method ?? 'POST',
      path: upstreamPath,
      headers: endToEnd(req),
      bodyBase64: body.toString('base64'),
      caller,
      callbackUrl,
      acceptedAt: d.clock.now(),
    };
  }
}

function endToEnd(req: IncomingMessage): Record<string, string> {
  const drop = hopByHop(req.headers);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || drop.has(k) || DROP.includes(k) || CREDENTIAL_HEADERS.includes(k)) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function tooLarge(limit: number): PlatformError {
  return new PlatformError(
    'payload_too_large',
    `request body is larger than the ${limit} bytes allowed for async calls; send a smaller body or raise FASTGSHARE_ASYNC_MAX_BODY_BYTES`,
    { details: { limit } },
  );
}

async function withTimeout(p: Promise<void>, ms: number, callId: string): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  p.catch(() => undefined); // a late failure after the timeout has already been answered
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(
      () =>
        reject(
          new PlatformError(
            'unavailable',
            `the async queue did not confirm call ${callId} within ${ms} ms; retry with the same X-Call-Id (it will not run twice)`,
          ),
        ),
      ms,
    );
  });
  try {
    await Promise.race([p, timeout]);
  } finally {
    clearTimeout(t);
  }
}
