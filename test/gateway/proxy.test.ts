/**
 * The invocation proxy driven directly against plain loopback upstream servers: body limits,
 * refused-connection retry with body replay, 502, 504, hop-by-hop headers, streaming, 503.
 */
import { expect } from 'chai';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { ReplicaStatus } from '../../core/contracts/node-agent.ts';
import { ManualClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/logger.ts';
import type { ReplicaDirectory } from '../../gateway/nodes/replica-directory.ts';
import { createInvokeHandler, splitInvocationUrl } from '../../gateway/proxy/invoke.ts';
import { createForwarder, type Forwarder } from '../../gateway/proxy/forwarder.ts';
import { createLeastOutstandingBalancer } from '../../gateway/proxy/balancer.ts';
import type { InvocationEnd, InvocationStart } from '../../gateway/observers/invocation-observer.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(handler: Handler): Promise<{ url: string; server: http.Server; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    server,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A port nobody listens on. */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const replica = (id: string, url: string): ReplicaStatus => ({
  id,
  name: 'fn',
  namespace: 'openfaas-fn',
  node: 'n1',
  url,
  pid: 1,
  state: 'ready',
  restarts: 0,
  startedAt: new Date().toISOString(),
  usage: { cpu: 0, totalMemoryBytes: 0 },
});

function fakeDirectory(replicas: () => ReplicaStatus[]): ReplicaDirectory {
  return {
    ready: () => replicas(),
    view: () => undefined,
    views: () => [],
    availableNodes: () => [],
    waitForReady: async (_k, ms) => {
      await new Promise((r) => setTimeout(r, ms));
      return replicas();
    },
    refresh: async () => {},
    start() {},
    stop() {},
  };
}

const echoBody: Handler = (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      }),
    );
  });
};

describe('gateway invocation proxy', () => {
  let forwarder: Forwarder;
  let gateway: { url: string; close(): Promise<void> };
  let replicas: ReplicaStatus[];
  let events: { started: InvocationStart[]; finished: InvocationEnd[] };
  let upstreams: { close(): Promise<void> }[];
  const clock = new ManualClock(1_700_000_000_000);

  async function start(
    opts: { maxBodyBytes?: number; upstreamTimeoutMs?: number; readyTimeoutMs?: number; replayBytes?: number } = {},
  ) {
    forwarder = createForwarder();
    events = { started: [], finished: [] };
    const invoke = createInvokeHandler({
      directory: fakeDirectory(() => replicas),
      exists: (k) => k === 'fn.openfaas-fn',
      balancer: createLeastOutstandingBalancer(),
      forwarder,
      observer: { started: (e) => events.started.push(e), finished: (e) => events.finished.push(e) },
      clock,
      log: silentLogger,
      maxBodyBytes: opts.maxBodyBytes ?? 1024 * 1024,
      readyTimeoutMs: opts.readyTimeoutMs ?? 100,
      upstreamTimeoutMs: opts.upstreamTimeoutMs ?? 5_000,
      replayBytes: opts.replayBytes,
    });
    gateway = await listen((req, res) => {
      req.url = req.url!.replace(/^\/function/, '');
      void invoke(req, res);
    });
  }
  const up = async (h: Handler) => {
    const u = await listen(h);
    upstreams.push(u);
    return u;
  };

  beforeEach(() => {
    upstreams = [];
    replicas = [];
  });
  afterEach(async () => {
    await gateway?.close();
    forwarder?.close();
    for (const u of upstreams) await u.close();
  });

  it('splits name, sub-path and query', () => {
    expect(splitInvocationUrl('/fn.team-a/a/b?x=1&y=2')).to.deep.equal({
      rawName: 'fn.team-a',
      upstreamPath: '/a/b?x=1&y=2',
    });
    expect(splitInvocationUrl('/fn')).to.deep.equal({ rawName: 'fn', upstreamPath: '/' });
    expect(splitInvocationUrl('/fn?q')).to.deep.equal({ rawName: 'fn', upstreamPath: '/?q' });
    expect(splitInvocationUrl('/fn/')).to.deep.equal({ rawName: 'fn', upstreamPath: '/' });
  });

  it('forwards method, sub-path, query, body and headers, and adds the gateway headers', async () => {
    const u = await up(echoBody);
    replicas = [replica('r1', u.url)];
    await start();
    const res = await fetch(`${gateway.url}/function/fn.openfaas-fn/sub/path?a=1&b=two`, {
      method: 'PUT',
      body: 'payload',
      headers: { 'x-foo': 'bar', 'x-call-id': 'given-id', 'x-forwarded-for': '10.0.0.9' },
    });
    expect(res.status).to.equal(200);
    const seen = (await res.json()) as { method: string; url: string; headers: Record<string, string>; body: string };
    expect(seen.method).to.equal('PUT');
    expect(seen.url).to.equal('/sub/path?a=1&b=two');
    expect(seen.body).to.equal('payload');
    expect(seen.headers['x-foo']).to.equal('bar');
    expect(seen.headers['x-call-id']).to.equal('given-id');
    expect(seen.headers['x-start-time']).to.equal(String(1_700_000_000_000n * 1_000_000n));
    expect(seen.headers['x-forwarded-for']).to.equal('10.0.0.9, 127.0.0.1');
    expect(seen.headers['x-forwarded-host']).to.equal(new URL(gateway.url).host);
    expect(res.headers.get('x-call-id')).to.equal('given-id');
    expect(res.headers.get('x-duration-seconds')).to.match(/^\d+\.\d{6}$/);
    expect(events.started).to.have.length(1);
    expect(events.finished[0]).to.include({
      function: 'fn.openfaas-fn',
      status: 200,
      replicaId: 'r1',
      requestBytes: 7,
    });
  });

  it('generates a UUID call id when the client sends none', async () => {
    const u = await up(echoBody);
    replicas = [replica('r1', u.url)];
    await start();
    const res = await fetch(`${gateway.url}/function/fn`);
    const seen = (await res.json()) as { headers: Record<string, string> };
    expect(seen.headers['x-call-id']).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(res.headers.get('x-call-id')).to.equal(seen.headers['x-call-id']);
  });

  it('drops hop-by-hop headers in both directions', async () => {
    const u = await up((req, res) => {
      res.setHeader('x-seen', JSON.stringify(req.headers));
      res.setHeader('connection', 'x-secret-hop');
      res.setHeader('x-secret-hop', 'nope');
      res.setHeader('keep-alive', 'timeout=99');
      res.setHeader('x-kept', 'yes');
      res.end('ok');
    });
    replicas = [replica('r1', u.url)];
    await start();
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = http.request(
        `${gateway.url}/function/fn`,
        {
          headers: {
            connection: 'keep-alive, x-private',
            'x-private': 'secret',
            'keep-alive': '300',
            te: 'trailers',
            'proxy-authorization': 'Basic abc',
            'x-end': 'kept',
          },
        },
        resolve,
      );
      req.on('error', reject);
      req.end();
    });
    res.resume();
    const seen = JSON.parse(res.headers['x-seen'] as string) as Record<string, string>;
    for (const h of ['x-private', 'te', 'proxy-authorization']) expect(seen, h).not.to.have.property(h);
    expect(seen['keep-alive']).to.not.equal('300');
    expect(seen['x-end']).to.equal('kept');
    expect(res.headers).not.to.have.property('x-secret-hop');
    expect(res.headers['keep-alive']).to.not.equal('timeout=99');
    expect(res.headers['x-kept']).to.equal('yes');
  });

  it('answers 413 at once when Content-Length is over the limit, without calling a replica', async () => {
    let called = 0;
    const u = await up((_req, res) => {
      called++;
      res.end();
    });
    replicas = [replica('r1', u.url)];
    await start({ maxBodyBytes: 1024 });
    const res = await fetch(`${gateway.url}/function/fn`, { method: 'POST', body: Buffer.alloc(2048, 1) });
    expect(res.status).to.equal(413);
    expect(res.headers.get('x-fastgshare-error')).to.equal('payload_too_large');
    expect(await res.text()).to.contain('1024 bytes');
    expect(called).to.equal(0);
  });

  it('counts a chunked body while it streams and cuts it with 413', async () => {
    let upstreamGot = 0;
    const u = await up((req) => {
      req.on('data', (c: Buffer) => (upstreamGot += c.length));
    });
    replicas = [replica('r1', u.url)];
    await start({ maxBodyBytes: 64 * 1024 });
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        `${gateway.url}/function/fn`,
        { method: 'POST', headers: { 'transfer-encoding': 'chunked' } },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on('error', reject);
      let sent = 0;
      const pump = () => {
        while (sent < 256 * 1024) {
          sent += 16 * 1024;
          if (!req.write(Buffer.alloc(16 * 1024, 2))) return req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(status).to.equal(413);
    expect(upstreamGot).to.be.at.most(64 * 1024);
    expect(events.finished.at(-1)).to.include({ status: 413, error: 'payload_too_large' });
  });

  it('retries on another replica when the connection is refused, replaying the body', async () => {
    const u = await up(echoBody);
    replicas = [replica('dead', `http://127.0.0.1:${await deadPort()}`), replica('live', u.url)];
    await start();
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${gateway.url}/function/fn`, { method: 'POST', body: `body-${i}` });
      expect(res.status).to.equal(200);
      expect(((await res.json()) as { body: string }).body).to.equal(`body-${i}`);
      expect(events.finished.at(-1)).to.include({ replicaId: 'live', status: 200 });
    }
  });

  it('replays a streamed body of many chunks, and gives up with 502 when the body is larger than what is kept', async () => {
    const u = await up(echoBody);
    replicas = [replica('dead', `http://127.0.0.1:${await deadPort()}`), replica('live', u.url)];
    await start({ replayBytes: 300 * 1024 });
    const big = Buffer.alloc(256 * 1024, 'a');
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${gateway.url}/function/fn`, { method: 'POST', body: big });
      expect(res.status).to.equal(200);
      expect(((await res.json()) as { body: string }).body).to.have.length(big.length);
    }
    await gateway.close();
    forwarder.close();
    replicas = [replica('dead', `http://127.0.0.1:${await deadPort()}`)];
    await start({ replayBytes: 1024 });
    const res = await fetch(`${gateway.url}/function/fn`, { method: 'POST', body: Buffer.alloc(512 * 1024, 'b') });
    expect(res.status).to.equal(502);
  });

  it('answers 502 when every replica refuses, and when a replica breaks the connection (no retry)', async () => {
    replicas = [replica('dead', `http://127.0.0.1:${await deadPort()}`)];
    await start();
    let res = await fetch(`${gateway.url}/function/fn`, { method: 'POST', body: 'x' });
    expect(res.status).to.equal(502);
    expect(res.headers.get('x-fastgshare-error')).to.equal('upstream_failed');
    expect(await res.text()).to.contain('accepted the connection');

    let calls = 0;
    const broken = await up((req) => {
      calls++;
      req.socket.destroy();
    });
    const other = await up(echoBody);
    replicas = [replica('broken', broken.url), replica('other', other.url)];
    // least-outstanding with ties taking turns: make sure "broken" is chosen by trying twice
    const statuses: number[] = [];
    for (let i = 0; i < 2; i++)
      statuses.push((await fetch(`${gateway.url}/function/fn`, { method: 'POST', body: 'y' })).status);
    expect(statuses.sort()).to.deep.equal([200, 502]);
    expect(calls).to.equal(1);
    res = await fetch(`${gateway.url}/function/fn`);
    expect([200, 502]).to.include(res.status);
  });

  it('answers 504 when the replica does not answer within the upstream timeout', async () => {
    const u = await up(() => {
      /* never answers */
    });
    replicas = [replica('slow', u.url)];
    await start({ upstreamTimeoutMs: 150 });
    const res = await fetch(`${gateway.url}/function/fn`);
    expect(res.status).to.equal(504);
    expect(res.headers.get('x-fastgshare-error')).to.equal('upstream_timeout');
    expect(await res.text()).to.contain('did not answer within 150 ms');
    expect(events.finished.at(-1)).to.include({ status: 504 });
  });

  it('answers 503 after the bounded wait when no replica is ready, and 404 for unknown functions', async () => {
    await start({ readyTimeoutMs: 50 });
    let res = await fetch(`${gateway.url}/function/fn`);
    expect(res.status).to.equal(503);
    expect(res.headers.get('x-fastgshare-error')).to.equal('no_replicas');
    res = await fetch(`${gateway.url}/function/other`);
    expect(res.status).to.equal(404);
    expect(await res.text()).to.contain('function "other" not found in namespace "openfaas-fn"');
    res = await fetch(`${gateway.url}/function/Bad!Name`);
    expect(res.status).to.equal(400);
  });

  it('streams the response: the first chunk arrives before the replica has finished', async () => {
    let finish!: () => void;
    const u = await up((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first;');
      finish = () => res.end('last');
    });
    replicas = [replica('r1', u.url)];
    await start();
    const res = await fetch(`${gateway.url}/function/fn`);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value!).toString()).to.equal('first;');
    finish();
    let rest = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += Buffer.from(value).toString();
    }
    expect(rest).to.equal('last');
  });

  it('sends each call to the replica with the fewest calls in flight', async () => {
    const held: ServerResponse[] = [];
    const a = await up((_req, res) => held.push(res));
    const b = await up((_req, res) => held.push(res));
    replicas = [replica('a', a.url), replica('b', b.url)];
    await start();
    const pending = [0, 1, 2, 3].map(() => fetch(`${gateway.url}/function/fn`).then((r) => r.text()));
    while (held.length < 4) await new Promise((r) => setTimeout(r, 10));
    const perServer = held.reduce<Record<number, number>>((m, r) => {
      const p = r.socket!.localPort!;
      m[p] = (m[p] ?? 0) + 1;
      return m;
    }, {});
    expect(Object.values(perServer)).to.deep.equal([2, 2]);
    for (const r of held) r.end('done');
    expect(await Promise.all(pending)).to.deep.equal(['done', 'done', 'done', 'done']);
  });
});
