/**
 * The CLI's HTTP client: a small fetch over node:http/https. Node's own fetch (undici) cost every
 * CLI call ~50 ms to load and then held the process ~190 ms at exit (its WebAssembly HTTP parser
 * is compiled on background threads, and exit waits for them): with it `fastgshare list` took
 * ~0.6 s on the 2-core machine, ~0.35 s without (bench:cli). It does what the CLI needs: one
 * request; the answer's status, headers and body, whole or streamed (`logs --follow`); abort.
 * Redirects are not followed (the gateway sends none). No connection is kept open afterwards.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpHeaders {
  get(name: string): string | null;
}

export interface HttpBody extends AsyncIterable<Uint8Array> {
  /** Stops reading the body and closes the connection. */
  cancel(): Promise<void>;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  ok: boolean;
  headers: HttpHeaders;
  body: HttpBody | null;
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface HttpRequestInit {
  method?: string;
  headers?: Record<string, string> | Array<[string, string]>;
  body?: string | Uint8Array;
  signal?: AbortSignal;
}

export type Fetch = (url: URL, init?: HttpRequestInit) => Promise<HttpResponse>;

function responseOf(res: IncomingMessage): HttpResponse {
  let consumed = false;
  const all = async (): Promise<Buffer> => {
    if (consumed) throw new TypeError('the body was already read');
    consumed = true;
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  const status = res.statusCode ?? 0;
  return {
    status,
    statusText: res.statusMessage ?? '',
    ok: status >= 200 && status < 300,
    headers: {
      get(name) {
        const v = res.headers[name.toLowerCase()];
        return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
      },
    },
    body: {
      [Symbol.asyncIterator]: () => {
        consumed = true;
        return (res as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
      },
      async cancel() {
        consumed = true;
        res.destroy();
      },
    },
    text: async () => (await all()).toString('utf8'),
    json: async () => JSON.parse((await all()).toString('utf8')) as unknown,
    arrayBuffer: async () => {
      const b = await all();
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
  };
}

/**
 * One request; rejects like fetch when no answer comes (the error's `cause` carries the system error, e.g.
 * ECONNREFUSED).
 */
export const httpFetch: Fetch = (url, init = {}) =>
  new Promise<HttpResponse>((resolve, reject) => {
    const signal = init.signal;
    if (signal?.aborted) return reject(signal.reason);
    const headers: Record<string, string> = Array.isArray(init.headers) ? {} : { ...init.headers };
    if (Array.isArray(init.headers)) {
      // repeated names are joined as fetch's Headers does
      for (const [k, v] of init.headers)
        headers[k.toLowerCase()] = headers[k.toLowerCase()] === undefined ? v : `${headers[k.toLowerCase()]}, ${v}`;
    }
    const body =
      init.body === undefined ? undefined : typeof init.body === 'string' ? Buffer.from(init.body) : init.body;
    if (body !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-length'))
      headers['content-length'] = String(body.byteLength);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method: init.method ?? 'GET', headers, agent: false }, (res) => {
      signal?.removeEventListener('abort', onAbort);
      // a body being read when the signal fires ends with the abort reason
      if (signal) signal.addEventListener('abort', () => res.destroy(signal.reason as Error), { once: true });
      resolve(responseOf(res));
    });
    const onAbort = () => req.destroy(signal!.reason as Error);
    signal?.addEventListener('abort', onAbort, { once: true });
    req.once('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      reject(signal?.aborted ? signal.reason : new TypeError(`request to ${url.origin} failed`, { cause: err }));
    });
    req.end(body);
  });
