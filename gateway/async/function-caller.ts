/**
 * Calls a function for a queued job through the gateway's own `/function/` route over loopback
 * HTTP, so an async call takes exactly the path a sync call takes: catalog check, bounded wait
 * for a ready replica, balancer, replay on refused connections, invocation metrics and counts,
 * and any invoke wrappers (per-tenant auth, admission) the gateway was started with. It presents
 * the gateway's internal credential on behalf of the caller the job was accepted as
 * (`credentials`), never a credential from the job (a job queued by an older gateway may still
 * hold an Authorization header: it is dropped).
 */
import http from 'node:http';
import type { InvocationCaller } from '../../core/contracts/tenants.ts';
import { CREDENTIAL_HEADERS } from '../proxy/headers.ts';
import type { AsyncJobData } from './job.ts';

export interface FunctionCallResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Set when no HTTP answer came back (connection failed, timed out, answer too large). */
  error?: string;
}

export interface FunctionCaller {
  call(job: AsyncJobData): Promise<FunctionCallResult>;
  close(): void;
}

export interface FunctionCallerOptions {
  /** The gateway's own base URL, e.g. http://127.0.0.1:8080 (known once it listens). */
  gatewayUrl: () => string;
  timeoutMs: number;
  /** Largest response body kept for the callback. */
  maxResponseBytes: number;
  /** Headers that authenticate a call made on behalf of `caller` (the gateway's internal credential). */
  credentials?: (caller: InvocationCaller) => Record<string, string>;
}

/** A job's headers without any credential header. */
export function withoutCredentials(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !CREDENTIAL_HEADERS.includes(k.toLowerCase())));
}

export function createFunctionCaller(o: FunctionCallerOptions): FunctionCaller {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  return {
    call(job) {
      const body = Buffer.from(job.bodyBase64, 'base64');
      const url = new URL(
        `/function/${encodeURIComponent(job.function)}${job.path.startsWith('/') ? job.path : '/' + job.path}`,
        o.gatewayUrl(),
      );
      const caller = job.caller ?? { kind: 'anonymous' };
      const headers: http.OutgoingHttpHeaders = {
        ...withoutCredentials(job.headers),
        ...o.credentials?.(caller),
        'x-call-id': job.callId,
        'content-length': String(body.length),
      };
      return new Promise<FunctionCallResult>((resolve) => {
        let settled = false;
        const done = (r: FunctionCallResult) => {
          if (settled) return;
          settled = true;
          resolve(r);
        };
        const req = http.request(url, { method: job.method, headers, agent, timeout: o.timeoutMs }, (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > o.maxResponseBytes) {
              res.destroy();
              done({
                status: 502,
                headers: {},
                body: Buffer.alloc(0),
                error: `the function's answer is larger than ${o.maxResponseBytes} bytes`,
              });
              return;
            }
            chunks.push(c);
          });
          res.on('end', () =>
            done({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', (err) => done({ status: 502, headers: {}, body: Buffer.alloc(0), error: err.message }));
        });
        req.on('timeout', () => {
          req.destroy();
          done({ status: 504, headers: {}, body: Buffer.alloc(0), error: `no answer within ${o.timeoutMs} ms` });
        });
        req.on('error', (err) => done({ status: 502, headers: {}, body: Buffer.alloc(0), error: err.message }));
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}
