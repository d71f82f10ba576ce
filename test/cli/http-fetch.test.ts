/**
 * The CLI's HTTP client (cli/http-fetch.ts) against a loopback server: what it sends (method,
 * headers, body and its length), what it reads (status, headers, body whole or streamed), a refused
 * connection with its system error as `cause`, and abort before and during a streamed answer.
 */
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpFetch } from '../../cli/http-fetch.ts';

describe('cli/http-fetch', () => {
  let server: Server;
  let base: string;
  const seen: Array<{
    method?: string;
    url?: string;
    headers: Record<string, string | string[] | undefined>;
    body: string;
  }> = [];

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
        if (req.url === '/stream') {
          res.writeHead(200, { 'content-type': 'application/x-ndjson' });
          res.write('{"a":1}\n');
          setTimeout(() => res.write('{"a":2}\n'), 20);
          return; // never ends: the client cancels or aborts
        }
        res.writeHead(req.url === '/missing' ? 404 : 201, 'Made', {
          'x-call-id': 'abc',
          'content-type': 'application/json',
        });
        res.end(JSON.stringify({ echoed: Buffer.concat(chunks).toString() }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });

  it('sends the method, headers and body, and reads status, headers and a JSON body', async () => {
    const res = await httpFetch(new URL(`${base}/x?q=1`), {
      method: 'POST',
      headers: [
        ['X-A', '1'],
        ['x-a', '2'],
        ['content-type', 'text/plain'],
      ],
      body: Buffer.from('héllo'),
    });
    expect(res.status).to.equal(201);
    expect(res.ok).to.equal(true);
    expect(res.statusText).to.equal('Made');
    expect(res.headers.get('X-Call-Id')).to.equal('abc');
    expect(res.headers.get('nope')).to.equal(null);
    expect(await res.json()).to.deep.equal({ echoed: 'héllo' });
    const s = seen.at(-1)!;
    expect(s.method).to.equal('POST');
    expect(s.url).to.equal('/x?q=1');
    expect(s.headers['x-a']).to.equal('1, 2');
    expect(s.headers['content-length']).to.equal(String(Buffer.byteLength('héllo')));
    const missing = await httpFetch(new URL(`${base}/missing`));
    expect(missing.ok).to.equal(false);
    expect(missing.status).to.equal(404);
    expect(Buffer.from(await missing.arrayBuffer()).toString()).to.equal('{"echoed":""}');
  });

  it('rejects with the system error as cause when nothing listens', async () => {
    const err = await httpFetch(new URL('http://127.0.0.1:9/')).then(
      () => undefined,
      (e: unknown) => e as Error & { cause?: { code?: string } },
    );
    expect(err).to.be.instanceOf(TypeError);
    expect(err!.cause?.code).to.equal('ECONNREFUSED');
  });

  it('streams a body chunk by chunk, cancels it, and aborts a request', async () => {
    const res = await httpFetch(new URL(`${base}/stream`));
    const got: string[] = [];
    for await (const chunk of res.body!) {
      got.push(Buffer.from(chunk).toString());
      if (got.join('').split('\n').length > 2) break;
    }
    expect(got.join('')).to.equal('{"a":1}\n{"a":2}\n');
    await res.body!.cancel();

    const ctl = new AbortController();
    const streamed = await httpFetch(new URL(`${base}/stream`), { signal: ctl.signal });
    setTimeout(() => ctl.abort(new Error('stop')), 50);
    const aborted = await (async () => {
      for await (const _ of streamed.body!) void _;
    })().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(aborted?.message).to.equal('stop');
    const before = new AbortController();
    before.abort(new Error('already'));
    expect(
      await httpFetch(new URL(`${base}/x`), { signal: before.signal }).then(
        () => undefined,
        (e: Error) => e.message,
      ),
    ).to.equal('already');
  });
});
