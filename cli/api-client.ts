/**
 * A small client for the OpenFaaS REST API (what faas-cli calls), over the CLI's HTTP client
 * (http-fetch.ts; tests may pass their own). Every failure is
 * a PlatformError whose message says what to do: an unreachable gateway, a refused login, or
 * the gateway's own message for any other non-2xx answer.
 */
import { PlatformError, codeForStatus, isErrorCode, type ErrorCode } from '../core/errors.ts';
import type { FunctionDeployment, FunctionStatus, LogMessage, SystemInfo } from '../core/contracts/openfaas.ts';
import { DEFAULT_NAMESPACE } from '../core/names.ts';
import { readNdjson } from '../core/net/ndjson.ts';
import type { Credentials } from './auth-config.ts';
import { httpFetch, type Fetch, type HttpHeaders, type HttpResponse } from './http-fetch.ts';

export type { Fetch } from './http-fetch.ts';

export interface DeployOutcome {
  /** 'updated': PUT succeeded (rolling update); 'created': POST succeeded. */
  action: 'updated' | 'created';
  status: number;
}

export interface InvokeOptions {
  namespace?: string;
  method?: string;
  query?: Array<[string, string]>;
  headers?: Array<[string, string]>;
  body?: Buffer;
  async?: boolean;
}

export interface InvokeResult {
  status: number;
  headers: HttpHeaders;
  body: Buffer;
}

export interface SecretInfo {
  name: string;
  namespace?: string;
}

export interface LogRequest {
  name: string;
  namespace?: string;
  instance?: string;
  tail?: number;
  follow?: boolean;
  since?: string;
}

export interface OpenFaasClient {
  readonly gateway: string;
  healthz(): Promise<boolean>;
  info(): Promise<SystemInfo>;
  listFunctions(namespace?: string): Promise<FunctionStatus[]>;
  getFunction(name: string, namespace?: string): Promise<FunctionStatus>;
  deploy(deployment: FunctionDeployment, opts?: { update?: boolean; replace?: boolean }): Promise<DeployOutcome>;
  /** Resolves false when the gateway does not know the function. */
  removeFunction(name: string, namespace?: string): Promise<boolean>;
  scale(name: string, replicas: number, namespace?: string): Promise<void>;
  invoke(name: string, opts?: InvokeOptions): Promise<InvokeResult>;
  logs(req: LogRequest, signal?: AbortSignal): AsyncIterable<LogMessage>;
  listNamespaces(): Promise<string[]>;
  createNamespace(name: string): Promise<void>;
  removeNamespace(name: string): Promise<void>;
  listSecrets(namespace?: string): Promise<SecretInfo[]>;
  createSecret(
    secret: { name: string; namespace?: string; value?: string; rawValue?: string },
    update?: boolean,
  ): Promise<void>;
  removeSecret(name: string, namespace?: string): Promise<void>;
}

export interface ClientOptions {
  gateway: string;
  credentials?: Credentials;
  fetch?: Fetch;
}

interface Call {
  method: string;
  path: string;
  query?: Record<string, string | undefined>;
  json?: unknown;
  body?: Buffer;
  headers?: Array<[string, string]>;
  /** Send the admin credentials (only /system/* routes). */
  auth?: boolean;
  signal?: AbortSignal;
}

/** The gateway's error text: `{message}` JSON when it sent one, else the body as text. */
async function errorText(res: HttpResponse): Promise<{ message: string; code?: ErrorCode }> {
  const text = (await res.text().catch(() => '')).trim();
  try {
    const parsed = JSON.parse(text) as { message?: unknown; code?: unknown };
    if (typeof parsed.message === 'string')
      return { message: parsed.message, code: isErrorCode(parsed.code) ? parsed.code : undefined };
  } catch {
    /* not JSON */
  }
  return { message: text || res.statusText || `HTTP ${res.status}` };
}

export function createOpenFaasClient(opts: ClientOptions): OpenFaasClient {
  const gateway = opts.gateway.replace(/\/+$/, '');
  const doFetch = opts.fetch ?? httpFetch;
  const authHeader = opts.credentials
    ? `Basic ${Buffer.from(`${opts.credentials.username}:${opts.credentials.password}`).toString('base64')}`
    : undefined;

  async function send(call: Call): Promise<HttpResponse> {
    const url = new URL(gateway + call.path);
    for (const [k, v] of Object.entries(call.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const headers: Array<[string, string]> = [...(call.headers ?? [])];
    const set = (k: string, v: string) => {
      for (let i = headers.length - 1; i >= 0; i--) if (headers[i]![0].toLowerCase() === k) headers.splice(i, 1);
      headers.push([k, v]);
    };
    if (call.auth && authHeader) set('authorization', authHeader);
    let body: string | Buffer | undefined;
    if (call.json !== undefined) {
      set('content-type', 'application/json');
      body = JSON.stringify(call.json);
    } else if (call.body && call.body.length > 0) {
      body = call.body;
    }
    let res: HttpResponse;
    try {
      res = await doFetch(url, { method: call.method, headers, body, signal: call.signal });
    } catch (err) {
      if (call.signal?.aborted) throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new PlatformError(
        'unavailable',
        `cannot reach the gateway at ${gateway}: is \`fastgshare up\` running? (${cause?.code ?? cause?.message ?? (err as Error).message})`,
        { cause: err },
      );
    }
    if (res.status === 401 && call.auth) {
      await res.body?.cancel();
      throw new PlatformError(
        'unauthorized',
        authHeader
          ? `the gateway at ${gateway} refused the credentials (401): run \`fastgshare login --gateway ${gateway} -u admin --password-stdin\` with the right password`
          : `the gateway at ${gateway} needs credentials (401): run \`fastgshare login --gateway ${gateway} -u admin --password-stdin\` first`,
      );
    }
    return res;
  }

  async function expectOk(res: HttpResponse, what: string): Promise<HttpResponse> {
    if (res.ok) return res;
    const { message, code } = await errorText(res);
    throw new PlatformError(
      code ?? codeForStatus(res.status) ?? 'internal',
      `${what}: ${message} (HTTP ${res.status})`,
      { details: { status: res.status } },
    );
  }

  const system = async (call: Call, what: string) => expectOk(await send({ ...call, auth: true }), what);
  const json = async <T>(res: HttpResponse): Promise<T> => (await res.json()) as T;

  return {
    gateway,

    async healthz() {
      const res = await send({ method: 'GET', path: '/healthz' });
      await res.body?.cancel();
      return res.ok;
    },

    async info() {
      return json<SystemInfo>(await system({ method: 'GET', path: '/system/info' }, 'cannot read the gateway version'));
    },

    async listFunctions(namespace) {
      return json<FunctionStatus[]>(
        await system({ method: 'GET', path: '/system/functions', query: { namespace } }, 'cannot list functions'),
      );
    },

    async getFunction(name, namespace) {
      const res = await send({
        method: 'GET',
        path: `/system/function/${encodeURIComponent(name)}`,
        query: { namespace, usage: '1' },
        auth: true,
      });
      if (res.status === 404) {
        await res.body?.cancel();
        throw new PlatformError(
          'not_found',
          `no function "${name}" in namespace ${namespace || DEFAULT_NAMESPACE} at ${gateway} (see \`fastgshare list\`)`,
        );
      }
      return json<FunctionStatus>(await expectOk(res, `cannot describe "${name}"`));
    },

    async deploy(deployment, o = {}) {
      const update = o.update ?? true;
      const what = `cannot deploy "${deployment.service}"`;
      if (o.replace) {
        const del = await send({
          method: 'DELETE',
          path: '/system/functions',
          json: { functionName: deployment.service, namespace: deployment.namespace },
          auth: true,
        });
        if (del.status !== 404) await expectOk(del, `cannot replace "${deployment.service}"`);
        await del.body?.cancel();
      } else if (update) {
        const put = await send({ method: 'PUT', path: '/system/functions', json: deployment, auth: true });
        if (put.status !== 404) {
          await expectOk(put, what);
          await put.body?.cancel();
          return { action: 'updated', status: put.status };
        }
        await put.body?.cancel();
      }
      const post = await system({ method: 'POST', path: '/system/functions', json: deployment }, what);
      await post.body?.cancel();
      return { action: 'created', status: post.status };
    },

    async removeFunction(name, namespace) {
      const res = await send({
        method: 'DELETE',
        path: '/system/functions',
        json: { functionName: name, namespace },
        auth: true,
      });
      if (res.status === 404) {
        await res.body?.cancel();
        return false;
      }
      await expectOk(res, `cannot remove "${name}"`);
      await res.body?.cancel();
      return true;
    },

    async scale(name, replicas, namespace) {
      const res = await system(
        {
          method: 'POST',
          path: `/system/scale-function/${encodeURIComponent(name)}`,
          json: { serviceName: name, replicas, namespace },
        },
        `cannot scale "${name}"`,
      );
      await res.body?.cancel();
    },

    async invoke(name, o = {}) {
      const qualified = `${name}.${o.namespace || DEFAULT_NAMESPACE}`;
      const path = `/${o.async ? 'async-function' : 'function'}/${qualified}`;
      const res = await send({
        method: o.async ? 'POST' : (o.method ?? 'POST').toUpperCase(),
        path: path + queryString(o.query),
        headers: o.headers,
        body: o.body,
      });
      return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
    },

    async *logs(req, signal) {
      const res = await system(
        {
          method: 'GET',
          path: '/system/logs',
          query: {
            name: req.name,
            namespace: req.namespace,
            instance: req.instance,
            tail: String(req.tail ?? -1),
            follow: String(Boolean(req.follow)),
            since: req.since,
          },
          signal,
        },
        `cannot read the logs of "${req.name}"`,
      );
      if (res.body) yield* readNdjson<LogMessage>(res.body);
    },

    async listNamespaces() {
      return json<string[]>(await system({ method: 'GET', path: '/system/namespaces' }, 'cannot list namespaces'));
    },

    async createNamespace(name) {
      const res = await system(
        {
          method: 'POST',
          path: '/system/namespace/',
          json: { name, labels: { openfaas: '1' }, annotations: { openfaas: '1' } },
        },
        `cannot create namespace "${name}"`,
      );
      await res.body?.cancel();
    },

    async removeNamespace(name) {
      const res = await system(
        { method: 'DELETE', path: `/system/namespace/${encodeURIComponent(name)}` },
        `cannot remove namespace "${name}"`,
      );
      await res.body?.cancel();
    },

    async listSecrets(namespace) {
      return json<SecretInfo[]>(
        await system({ method: 'GET', path: '/system/secrets', query: { namespace } }, 'cannot list secrets'),
      );
    },

    async createSecret(secret, update = false) {
      const res = await system(
        { method: update ? 'PUT' : 'POST', path: '/system/secrets', json: secret },
        `cannot ${update ? 'update' : 'create'} secret "${secret.name}"`,
      );
      await res.body?.cancel();
    },

    async removeSecret(name, namespace) {
      const res = await system(
        { method: 'DELETE', path: '/system/secrets', json: { name, namespace } },
        `cannot remove secret "${name}"`,
      );
      await res.body?.cancel();
    },
  };
}

function queryString(pairs: Array<[string, string]> | undefined): string {
  if (!pairs || pairs.length === 0) return '';
  return '?' + new URLSearchParams(pairs).toString();
}
