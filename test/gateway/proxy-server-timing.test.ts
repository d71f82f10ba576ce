/**
 * The gateway's Server-Timing stage: appended to the replica's header (or alone when the replica
 * sends none), its duration a number ≥ 0 that excludes the time the replica took.
 */
import { expect } from 'chai';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ReplicaStatus } from '../../core/contracts/node-agent.ts';
import { systemClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/logger.ts';
import type { ReplicaDirectory } from '../../gateway/nodes/replica-directory.ts';
import { createInvokeHandler, gatewayTiming } from '../../gateway/proxy/invoke.ts';
import { createForwarder, type Forwarder } from '../../gateway/proxy/forwarder.ts';
import { createLeastOutstandingBalancer } from '../../gateway/proxy/balancer.ts';
import { parseServerTiming } from '../../core/net/server-timing.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(handler: Handler): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const replica = (url: string): ReplicaStatus => ({
  id: 'r1',
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

const directory = (r: () => ReplicaStatus[]): ReplicaDirectory => ({
  ready: () => r(),
  view: () => undefined,
  views: () => [],
  availableNodes: () => [],
  waitForReady: async () => r(),
  refresh: async () => {},
  start() {},
  stop() {},
});

describe('gateway invocation proxy: Server-Timing', () => {
  let forwarder: Forwarder;
  let gateway: { url: string; close(): Promise<void> };
  let upstream: { url: string; close(): Promise<void> };

  async function start(handler: Handler) {
    upstream = await listen(handler);
    forwarder = createForwarder();
    const invoke = createInvokeHandler({
      directory: directory(() => [replica(upstream.url)]),
      exists: (k) => k === 'fn.openfaas-fn',
      balancer: createLeastOutstandingBalancer(),
      forwarder,
      observer: { started() {}, finished() {} },
      clock: systemClock,
      log: silentLogger,
      maxBodyBytes: 1024 * 1024,
      readyTimeoutMs: 100,
      upstreamTimeoutMs: 5_000,
    });
    gateway = await listen((req, res) => {
      req.url = req.url!.replace(/^\/function/, '');
      void invoke(req, res);
    });
  }
  afterEach(async () => {
    await gateway?.close();
    forwarder?.close();
    await upstream?.close();
  });

  it("appends the gateway's stage to the replica's, excluding the time the replica took", async () => {
    const replicaMs = 150;
    await start((req, res) => {
      req.resume();
      req.on('end', () =>
        setTimeout(() => {
          res.setHeader('server-timing', 'decode;dur=1.5, infer;dur=3.25');
          res.end('{}');
        }, replicaMs),
      );
    });
    const t = performance.now();
    const res = await fetch(`${gateway.url}/function/fn`, { method: 'POST', body: 'x' });
    await res.text();
    const total = performance.now() - t;
    const entries = parseServerTiming(res.headers.get('server-timing'));
    expect(entries.map((e) => e.name)).to.deep.equal(['decode', 'infer', 'gateway']);
    expect(entries.slice(0, 2).map((e) => e.dur)).to.deep.equal([1.5, 3.25]); // the replica's, untouched
    const gw = entries[2].dur!;
    expect(gw).to.be.a('number').and.at.least(0);
    // the replica's 150 ms are not in it: gateway + replica fit in what the client measured
    expect(gw + replicaMs).to.be.at.most(total);
  });

  it('sends the gateway stage alone when the replica sends none, and joins repeated replica headers', async () => {
    await start((req, res) => {
      req.resume();
      req.on('end', () => res.end('{}'));
    });
    const alone = await fetch(`${gateway.url}/function/fn`, { method: 'POST', body: 'x' });
    await alone.text();
    const entries = parseServerTiming(alone.headers.get('server-timing'));
    expect(entries.map((e) => e.name)).to.deep.equal(['gateway']);
    expect(entries[0].dur).to.be.at.least(0);
    await upstream.close();
    await gateway.close();
    forwarder.close();
    // a replica that sends the header twice (and one value that is not a valid metric)
    await start((req, res) => {
      req.resume();
      req.on('end', () => {
        res.setHeader('server-timing', ['a;dur=1', 'b;dur=2, ;dur=9']);
        res.end('{}');
      });
    });
    const twice = await fetch(`${gateway.url}/function/fn`, { method: 'POST', body: 'x' });
    await twice.text();
    expect(parseServerTiming(twice.headers.get('server-timing')).map((e) => e.name)).to.deep.equal([
      'a',
      'b',
      'gateway',
    ]);
  });

  it('formats the stage as a W3C metric with a non-negative duration', () => {
    expect(gatewayTiming(1.23456)).to.equal('gateway;dur=1.235');
    expect(gatewayTiming(-4)).to.equal('gateway;dur=0');
  });
});
