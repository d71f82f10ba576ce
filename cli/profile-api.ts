/**
 * The gateway's profile routes (/system/profiles…) as the `profile` and `profiles` commands call
 * them: the saved (or given) credentials, and errors that carry the gateway's message and code. A
 * failure to reach the gateway, or a 5xx, is `unavailable` (the follower retries those).
 */
import { PlatformError, codeForStatus, isErrorCode, type ErrorCode } from '../core/errors.ts';
import { gatewayUrl, type CommandContext, type GatewayOptions } from './context.ts';
import { resolveCredentials } from './gateway-target.ts';
import { httpFetch, type HttpResponse } from './http-fetch.ts';

/** A sweep as GET /system/profiles/NAME/job shows it (profiler/service.ts SweepView). */
export interface JobView {
  id: string;
  function: string;
  state: string;
  trials: number;
  estimateSeconds: number;
  origin?: 'request' | 'autoscaler';
  device?: string;
  node?: string;
  grid?: { partitions: number[]; quotas: number[]; batches: number[] };
  error?: string;
  waitingFor?: string;
  progress?: {
    phase: string;
    done: number;
    total: number;
    trial?: number;
    config?: { partitionPercent: number; quota: number; batch: number };
    etaSeconds: number;
  };
  result?: { entries: number; measured: number; fitted: number; invalid?: number; deviceClass: string };
}

export interface QueueView {
  running: number;
  concurrency?: number;
  sweeps: JobView[];
}

export interface ProfileApi {
  gateway: string;
  /** `path` below /system/profiles (e.g. `/echo/job`); resolves with the answer of a 2xx. */
  call(
    method: string,
    path: string,
    opts?: { body?: unknown; query?: Record<string, string | undefined> },
  ): Promise<HttpResponse>;
}

export async function profileApi(ctx: CommandContext, o: GatewayOptions, what: string): Promise<ProfileApi> {
  const gateway = await gatewayUrl(ctx, o);
  const creds = await resolveCredentials(gateway, o, ctx.authFile);
  const doFetch = ctx.fetch ?? httpFetch;
  return {
    gateway,
    async call(method, path, opts = {}) {
      const url = new URL(`${gateway}/system/profiles${path}`);
      for (const [k, v] of Object.entries(opts.query ?? {}))
        if (v !== undefined && v !== '') url.searchParams.set(k, v);
      const headers: Record<string, string> = opts.body === undefined ? {} : { 'content-type': 'application/json' };
      if (creds)
        headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      let res: HttpResponse;
      try {
        res = await doFetch(url, {
          method,
          headers,
          body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        });
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause;
        throw new PlatformError(
          'unavailable',
          `cannot reach the gateway at ${gateway}: is \`fastgshare up\` running? (${cause?.code ?? (err as Error).message})`,
          { cause: err },
        );
      }
      if (res.ok) return res;
      const text = await res.text().catch(() => '');
      let message = text.trim() || res.statusText;
      let code: unknown;
      try {
        ({ message, code } = JSON.parse(text) as { message: string; code?: unknown });
      } catch {
        /* plain text */
      }
      if (res.status === 401)
        message += ` (log in with: fastgshare login --gateway ${gateway} -u admin --password-stdin)`;
      // a 5xx is the gateway's trouble, not the request's: the follower retries it
      const c: ErrorCode =
        res.status >= 500 && res.status !== 501
          ? 'unavailable'
          : isErrorCode(code)
            ? code
            : (codeForStatus(res.status) ?? 'unavailable');
      throw new PlatformError(c, `${what}: ${message} (HTTP ${res.status})`, { details: { status: res.status } });
    },
  };
}
