/**
 * NodeAgentClient over HTTP/JSON (core/contracts/node-agent.ts). Errors the agent reports as
 * `{code, message}` become PlatformErrors with the same code; a node that cannot be reached
 * is `unavailable`.
 */
import { isErrorCode, PlatformError } from '../core/errors.ts';
import { NODE_API_PREFIX, type ApplyFunctionRequest, type FunctionReplicas, type LogQuery, type NodeAgentClient, type NodeInfo } from '../core/contracts/node-agent.ts';
import type { LogMessage } from '../core/contracts/openfaas.ts';
import { readNdjson } from './nodes/ndjson.ts';

export interface HttpNodeAgentClientOptions {
  /** Longest a control request (not a log stream) may take; default 10 s. */
  timeoutMs?: number;
}

export function createHttpNodeAgentClient(url: string, opts: HttpNodeAgentClientOptions = {}): NodeAgentClient {
  const base = url.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? 10_000;

  async function send(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json', accept: 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal ?? AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw unreachable(err);
    }
    if (!res.ok) throw await agentError(res, method, path);
    return res;
  }

  function unreachable(err: unknown): PlatformError {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
    return new PlatformError('unavailable', `node agent at ${base} is unreachable (${why}); check that fast-manager is running there`, { cause: err });
  }

  async function agentError(res: Response, method: string, path: string): Promise<PlatformError> {
    const text = await res.text().catch(() => '');
    try {
      const j = JSON.parse(text) as { code?: unknown; message?: unknown };
      if (isErrorCode(j.code) && typeof j.message === 'string') return new PlatformError(j.code, j.message, { details: { node: base } });
    } catch {
      /* not JSON: fall through */
    }
    const code = res.status === 404 ? 'not_found' : res.status >= 500 ? 'unavailable' : 'internal';
    return new PlatformError(code, `node agent at ${base} answered ${res.status} to ${method} ${path}: ${text.slice(0, 300) || res.statusText}`);
  }

  async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await send(method, path, body);
    try {
      return (await res.json()) as T;
    } catch (err) {
      throw unreachable(err);
    }
  }

  const fnPath = (namespace: string, name: string) => `${NODE_API_PREFIX}/functions/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;

  return {
    url: base,
    info: () => json<NodeInfo>('GET', `${NODE_API_PREFIX}/node`),
    listFunctions: () => json<FunctionReplicas[]>('GET', `${NODE_API_PREFIX}/functions`),
    applyFunction: (req: ApplyFunctionRequest) => json<FunctionReplicas>('PUT', fnPath(req.spec.namespace, req.spec.name), req),
    async removeFunction(namespace, name) {
      try {
        await json<unknown>('DELETE', fnPath(namespace, name));
        return true;
      } catch (err) {
        if (err instanceof PlatformError && err.code === 'not_found') return false;
        throw err;
      }
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
