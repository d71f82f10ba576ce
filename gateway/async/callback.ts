/**
 * Reports a finished call to its `X-Callback-Url` the way the OpenFaaS queue-worker does: POST
 * of the function's response body with X-Function-Status (503 when the call itself failed),
 * X-Duration-Seconds, X-Function-Name and X-Call-Id, plus the function's content type.
 * Destinations pass the callback policy (callback-policy.ts) on the address connected to;
 * a refused destination or a redirect fails the callback at once (no retries).
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { PlatformError } from '../../core/errors.ts';
import type { CallbackPolicy } from './callback-policy.ts';

export interface CallbackReport {
  url: string;
  callId: string;
  function: string;
  status: number;
  durationSeconds: number;
  body: Buffer;
  contentType?: string;
  attempts: number;
  error?: string;
}

export interface CallbackSender {
  send(r: CallbackReport): Promise<void>;
}

/**
 * Checks an X-Callback-Url header value: one absolute http(s) URL, and, with a policy, a
 * destination the policy does not refuse without DNS (IP literals in any numeric form, localhost).
 */
export function parseCallbackUrl(raw: string | string[] | undefined, policy?: CallbackPolicy): string | undefined {
  if (raw === undefined) return undefined;
  const value = Array.isArray(raw) ? raw : [raw];
  if (value.length !== 1 || !value[0])
    throw new PlatformError('bad_request', 'X-Callback-Url must be a single absolute http:// or https:// URL');
  let u: URL;
  try {
    u = new URL(value[0]);
  } catch {
    throw new PlatformError(
      'bad_request',
      `X-Callback-Url "${value[0].slice(0, 200)}" is not a URL: give an absolute http:// or https:// URL`,
    );
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new PlatformError('bad_request', `X-Callback-Url must use http or https, not ${u.protocol}`);
  if (u.username || u.password) throw new PlatformError('bad_request', 'X-Callback-Url must not carry credentials');
  policy?.checkUrl(u);
  return u.toString();
}

export interface CallbackSenderOptions {
  timeoutMs: number;
  /** Where callbacks may go; checked on the address connected to. */
  policy: CallbackPolicy;
  attempts?: number;
  retryDelayMs?: number;
}

/** One POST; resolves with the receiver's status. Redirects are not followed. */
function post(
  url: URL,
  policy: CallbackPolicy,
  headers: Record<string, string>,
  body: Buffer,
  timeoutMs: number,
): Promise<number> {
  const target = policy.connectOptions(url); // throws CallbackRefusedError for a refused IP literal
  const request = url.protocol === 'https:' ? https.request : http.request;
  return new Promise<number>((resolve, reject) => {
    const req = request(
      {
        method: 'POST',
        protocol: url.protocol,
        host: target.host,
        port: target.port,
        path: `${url.pathname}${url.search}`,
        headers: { ...headers, 'Content-Length': String(body.length) },
        lookup: target.lookup,
        // a fresh connection per callback: every one goes through the lookup's check
        agent: false,
        ...(url.protocol === 'https:' && !isIP(target.host) ? { servername: target.host } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        res.on('error', reject);
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.resume();
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export function createCallbackSender(opts: CallbackSenderOptions): CallbackSender {
  const attempts = opts.attempts ?? 3;
  const delay = opts.retryDelayMs ?? 200;
  return {
    async send(r) {
      const headers: Record<string, string> = {
        'X-Function-Status': String(r.status),
        'X-Duration-Seconds': r.durationSeconds.toFixed(6),
        'X-Function-Name': r.function,
        'X-Call-Id': r.callId,
        'X-Function-Attempts': String(r.attempts),
      };
      if (r.contentType) headers['Content-Type'] = r.contentType;
      if (r.error) headers['X-Function-Error'] = r.error.replace(/[^\x20-\x7e]/g, '?').slice(0, 500);
      const url = new URL(r.url);
      let last: unknown;
      for (let i = 0; i < attempts; i++) {
        try {
          const status = await post(url, opts.policy, headers, r.body, opts.timeoutMs);
          if (status >= 300 && status < 400)
            throw new PlatformError(
              'bad_request',
              `callback to ${url.host} answered ${status}: redirects are not followed; give the final URL in X-Callback-Url`,
            );
          if (status < 500) return;
          last = new Error(`callback answered ${status}`);
        } catch (err) {
          // a refused destination or a redirect is not tried again
          if (err instanceof PlatformError) throw err;
          last = err;
        }
        if (i + 1 < attempts) await new Promise((resolve) => setTimeout(resolve, delay * 2 ** i));
      }
      throw new PlatformError('unavailable', `callback to ${r.url} failed: ${(last as Error)?.message ?? last}`, {
        cause: last,
      });
    },
  };
}
