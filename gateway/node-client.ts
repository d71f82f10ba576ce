/**
 * NodeAgentClient over HTTP/JSON (core/contracts/node-agent.ts), every request with the agent's
 * bearer token. Errors the agent reports as `{code, message}` become PlatformErrors with the same
 * code; a node that cannot be reached is `unavailable`; a 401 says how to give the token.
 */
import { isErrorCode, PlatformError } from '../core/errors.ts';
import {
  NODE_API_PREFIX,
  type ApplyFunctionRequest,
  type DeviceTimeline,
  type FunctionReplicas,
  type LogQuery,
  type NodeAgentClient,
  type NodeInfo,
} from '../core/contracts/node-agent.ts';
import { NodeUsageSchema } from '../core/contracts/node-usage.ts';
import type { LogMessage } from '../core/contracts/openfaas.ts';
import { readNdjson } from '../core/net/ndjson.ts';
import type { NodeCredential } from './nodes/node-token.ts';

export interface HttpNodeAgentClientOptions {
  /** The agent's API token, or where to get it (gateway/nodes/node-token.ts). */
  token: string | NodeCredential;
  /** Longest a control request (not a log stream) may take; default 10 s. */
  timeoutMs?: number;
}

export function createHttpNodeAgentClient(url: string, opts: HttpNodeAgentClientOptions): NodeAgentClient {
  const base = url.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? 10_000;

  const token =
    typeof opts.token === 'string'
      ? (
          (t: string) => () =>
            t
        )(opts.token)
      : opts.token;

  async function send(
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
    okStatuses: number[] = [],
  ): Promise<Response> {
    const authorization = `Bearer ${token()}`;
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        headers:
          body === undefined
            ? { accept: 'application/json', authorization }
            : { 'content-type': 'application/json', accept: 'application/json', authorization },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal ?? AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw unreachable(err);
    }
    if (!res.ok && !okStatuses.includes(res.status)) throw await agentError(res, method, path);
    return res;
  }

  function unreachable(err: unknown): PlatformError {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why =
      e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
    return new PlatformError(
      'unavailable',
      `node agent at ${base} is unreachable (${why}); check that fast-manager is running there`,
      { cause: err },
    );
  }

  async function agentError(res: Response, method: string, path: string): Promise<PlatformError> {
    const text = await res.text().catch(() => '');
    if (res.status === 401) {
      return new PlatformError(
        'unavailable',
        `node agent at ${base} refused this gateway's token (401 to ${method} ${path}); give the gateway the agent's token: FASTGSHARE_NODE_TOKEN or FASTGSHARE_NODE_TOKEN_FILE (the agent keeps it in its data dir, node-agent.token)`,
        { details: { node: base } },
      );
    }
    try {
      const j = JSON.parse(text) as { code?: unknown; message?: unknown };
      if (isErrorCode(j.code) && typeof j.message === 'string')
        return new PlatformError(j.code, j.message, { details: { node: base } });
    } catch {
      /* not JSON: fall through */
    }
    const code = res.status === 404 ? 'not_found' : res.status >= 500 ? 'unavailable' : 'internal';
    return new PlatformError(
      code,
      `node agent at ${base} answered ${res.status} to ${method} ${path}: ${text.slice(0, 300) || res.statusText}`,
    );
  }

  async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await send(method, path, body);
    try {
      return (await res.json()) as T;
    } catch (err) {
      throw unreachable(err);
    }
  }

  const fnPath = (namespace: string, name: string) =>
    `${NODE_API_PREFIX}/functions/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;

  return {
    url: base,
    info: () => json<NodeInfo>('GET', `${NODE_API_PREFIX}/node`),
    listFunctions: () => json<FunctionReplicas[]>('GET', `${NODE_API_PREFIX}/functions`),
    applyFunction: (req: ApplyFunctionRequest) =>
      json<FunctionReplicas>('PUT', fnPath(req.spec.namespace, req.spec.name), req),
    async removeFunction(namespace, name) {
      try {
        await json<unknown>('DELETE', fnPath(namespace, name));
        return true;
      } catch (err) {
        if (err instanceof PlatformError && err.code === 'not_found') return false;
        throw err;
      }
    },
    timeline(device, query = {}) {
      const qs = new URLSearchParams();
      if (query.since !== undefined) qs.set('since', String(query.since));
      if (query.lastMs !== undefined) qs.set('last', String(query.lastMs));
      return json<DeviceTimeline>(
        'GET',
        `${NODE_API_PREFIX}/devices/${encodeURIComponent(device)}/timeline${qs.size ? `?${qs}` : ''}`,
      );
    },
    async usage() {
      const res = await send('GET', `${NODE_API_PREFIX}/usage`, undefined, undefined, [404]);
      if (res.status === 404) {
        await res.body?.cancel();
        return undefined;
      }
      let body: unknown;
      try {
        body = await res.json();
      } catch (err) {
        throw unreachable(err);
      }
      const usage = NodeUsageSchema.safeParse(body);
      if (!usage.success) {
        const issue = usage.error.issues[0]!;
        const where = issue.path.join('.') || '(body)';
        throw new PlatformError(
          'unavailable',
          `node agent at ${base} sent a GET /v1/usage body this gateway cannot read (${where}: ${issue.message}); run the same platform version on the gateway and its nodes`,
          { details: { node: base } },
        );
      }
      return usage.data;
    },
    async *logs(query: LogQuery, signal?: AbortSignal): AsyncIterable<LogMessage> {
      const qs = new URLSearchParams({ name: query.name, namespace: query.namespace });
      if (query.instance) qs.set('instance', query.instance);
      if (query.tail !== undefined) qs.set('tail', String(query.tail));
      if (query.since) qs.set('since', query.since.toISOString());
      if (query.follow) qs.set('follow', 'true');
      const ctl = new AbortController();
      const onAbort = () => ctl.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      const timer = query.follow ? undefined : setTimeout(() => ctl.abort(), timeoutMs);
      try {
        const res = await send('GET', `${NODE_API_PREFIX}/logs?${qs}`, undefined, ctl.signal);
        if (!res.body) return;
        yield* readNdjson<LogMessage>(res.body);
      } catch (err) {
        if (signal?.aborted) return;
        throw err instanceof PlatformError ? err : unreachable(err);
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        ctl.abort();
      }
    },
  };
}
