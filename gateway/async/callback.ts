/**
 * Reports a finished call to its `X-Callback-Url` the way the OpenFaaS queue-worker does: POST
 * of the function's response body with X-Function-Status (503 when the call itself failed),
 * X-Duration-Seconds, X-Function-Name and X-Call-Id, plus the function's content type.
 */
import { PlatformError } from '../../core/errors.ts';

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

/** Checks an X-Callback-Url header value: one absolute http(s) URL. */
export function parseCallbackUrl(raw: string | string[] | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const value = Array.isArray(raw) ? raw : [raw];
  if (value.length !== 1 || !value[0]) throw new PlatformError('bad_request', 'X-Callback-Url must be a single absolute http:// or https:// URL');
  let u: URL;
  try {
    u = new URL(value[0]);
  } catch {
    throw new PlatformError('bad_request', `X-Callback-Url "${value[0].slice(0, 200)}" is not a URL: give an absolute http:// or https:// URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new PlatformError('bad_request', `X-Callback-Url must use http or https, not ${u.protocol}`);
  if (u.username || u.password) throw new PlatformError('bad_request', 'X-Callback-Url must not carry credentials');
  return u.toString();
}

export function createCallbackSender(opts: { timeoutMs: number; attempts?: number; retryDelayMs?: number }): CallbackSender {
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
      let last: unknown;
      for (let i = 0; i < attempts; i++) {
        try {
          const res = await fetch(r.url, { method: 'POST', headers, body: new Uint8Array(r.body), signal: AbortSignal.timeout(opts.timeoutMs), redirect: 'manual' });
          await res.arrayBuffer();
          if (res.status < 500) return;
          last = new Error(`callback answered ${res.status}`);
        } catch (err) {
          last = err;
        }
        if (i + 1 < attempts) await new Promise((resolve) => setTimeout(resolve, delay * 2 ** i));
      }
      throw new PlatformError('unavailable', `callback to ${r.url} failed: ${(last as Error)?.message ?? last}`, { cause: last });
    },
  };
}
