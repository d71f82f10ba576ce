/**
 * The callback destination policy, as an attacker would probe it: every loopback, link-local,
 * private, shared and reserved form (numeric IPv4 spellings, IPv4-mapped / -compatible / NAT64
 * IPv6), the platform's own listeners, names that resolve to refused addresses (DNS rebinding),
 * and redirects — at submission (no DNS) and at send time (the address connected to), against
 * a real loopback receiver that must see nothing. The allow-list opens exactly what it lists.
 */
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readCallbackAllow, type CallbackAllowRule } from '../../../core/config.ts';
import { ConfigError, PlatformError } from '../../../core/errors.ts';
import {
  createCallbackPolicy,
  CallbackRefusedError,
  type CallbackPolicyOptions,
  type PlatformListener,
} from '../../../gateway/async/callback-policy.ts';
import { createCallbackSender, parseCallbackUrl, type CallbackReport } from '../../../gateway/async/callback.ts';
import { startCallbackServer, type CallbackServer } from './callback-server.ts';

const allow = (spec: string): CallbackAllowRule[] => readCallbackAllow({ FASTGSHARE_CALLBACK_ALLOW: spec });

function policy(o: Partial<CallbackPolicyOptions> = {}) {
  return createCallbackPolicy({
    allow: [],
    listeners: () => [],
    hostAddresses: () => ['127.0.0.1', '::1', '203.0.113.7'],
    ...o,
  });
}

function report(url: string, callId = 'c1'): CallbackReport {
  return {
    url,
    callId,
    function: 'echo.openfaas-fn',
    status: 200,
    durationSeconds: 0.01,
    body: Buffer.from('result'),
    attempts: 1,
  };
}

/** Refused forms (host part of the URL) and the rule each must be refused by. */
const REFUSED: Array<[string, string]> = [
  ['127.0.0.1', 'loopback'],
  ['127.1.2.3', 'loopback'],
  ['127.1', 'loopback'],
  ['2130706433', 'loopback'],
  ['0x7f.1', 'loopback'],
  ['0x7f000001', 'loopback'],
  ['017700000001', 'loopback'],
  ['0177.0.0.1', 'loopback'],
  ['%31%32%37.0.0.1', 'loopback'],
  ['[::1]', 'loopback'],
  ['[0:0:0:0:0:0:0:1]', 'loopback'],
  ['[::ffff:127.0.0.1]', 'loopback'],
  ['[::ffff:7f00:1]', 'loopback'],
  ['[0:0:0:0:0:ffff:127.0.0.1]', 'loopback'],
  ['[64:ff9b::127.0.0.1]', 'loopback'],
  ['localhost', 'loopback'],
  ['LocalHost.', 'loopback'],
  ['api.localhost', 'loopback'],
  ['0.0.0.0', 'unspecified'],
  ['0', 'unspecified'],
  ['[::]', 'unspecified'],
  ['[::ffff:0.0.0.0]', 'unspecified'],
  ['169.254.169.254', 'link-local'],
  ['[::ffff:169.254.169.254]', 'link-local'],
  ['[fe80::1]', 'link-local'],
  ['[febf::1]', 'link-local'],
  ['10.0.0.1', 'private'],
  ['10.255.255.255', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.254', 'private'],
  ['192.168.1.1', 'private'],
  ['[::ffff:10.1.2.3]', 'private'],
  ['[::ffff:c0a8:101]', 'private'],
  ['[fc00::1]', 'private'],
  ['[fd12:3456::1]', 'private'],
  ['100.64.0.1', 'shared'],
  ['100.127.255.255', 'shared'],
  ['[::ffff:100.64.0.1]', 'shared'],
  ['224.0.0.1', 'reserved'],
  ['255.255.255.255', 'reserved'],
  ['[ff02::1]', 'reserved'],
  ['[::127.0.0.1]', 'reserved'],
  ['203.0.113.7', 'this-host'],
];

const PUBLIC = [
  '93.184.216.34',
  '172.32.0.1',
  '172.15.255.255',
  '100.128.0.1',
  '11.0.0.1',
  '192.169.0.1',
  '[2606:4700::1111]',
  '[::ffff:8.8.8.8]',
];

describe('callback destination policy', () => {
  let rx: CallbackServer;
  let rxPort: number;
  before(async () => {
    rx = await startCallbackServer();
    rxPort = Number(new URL(rx.url).port);
  });
  after(() => rx.close());
  afterEach(() => {
    rx.received.length = 0;
  });

  it('refuses every loopback, unspecified, link-local, private, shared, reserved and own-host form at submission, naming the rule and the setting', () => {
    const p = policy();
    for (const [host, rule] of REFUSED) {
      const url = `http://${host}:${rxPort}/cb`;
      let err: unknown;
      try {
        parseCallbackUrl(url, p);
      } catch (e) {
        err = e;
      }
      expect(err, url).to.be.instanceOf(CallbackRefusedError);
      const pe = err as CallbackRefusedError;
      expect(pe.status, url).to.equal(400);
      expect(pe.rule, url).to.equal(rule);
      expect(pe.message, url).to.include(`rule: ${rule}`).and.to.include('FASTGSHARE_CALLBACK_ALLOW');
    }
  });

  it('lets public addresses through, and leaves names to the send-time check', () => {
    const p = policy();
    for (const host of PUBLIC) expect(parseCallbackUrl(`https://${host}/cb`, p), host).to.be.a('string');
    expect(parseCallbackUrl('https://receiver.example.com/cb', p)).to.equal('https://receiver.example.com/cb');
  });

  it('refuses every refused form at send time too (IP literals never reach the receiver), without retrying', async () => {
    let resolved = 0;
    const p = policy({ resolve: (h, cb) => (resolved++, cb(null, [{ address: '127.0.0.1', family: 4 }])) });
    const sender = createCallbackSender({ timeoutMs: 2000, policy: p, attempts: 3, retryDelayMs: 50 });
    for (const [host, rule] of REFUSED) {
      // submission might have been skipped (a job queued before the policy, or a name): send must refuse on its own
      const err = await sender.send(report(new URL(`http://${host}:${rxPort}/cb`).toString())).catch((e) => e);
      expect(err, host).to.be.instanceOf(CallbackRefusedError);
      expect(err.rule, host).to.equal(rule);
    }
    expect(resolved, 'each name resolved once: no retries').to.equal(3);
    expect(rx.received).to.have.length(0);
  });

  it('checks the address connected to: a name that resolves to a refused address (DNS rebinding) is refused', async () => {
    const answers: Record<string, string[]> = {
      'rebind.example': ['127.0.0.1'],
      'mixed.example': ['10.0.0.5', '::ffff:127.0.0.1'],
      'metadata.example': ['169.254.169.254'],
      'v6.example': ['::1'],
    };
    const p = policy({
      resolve: (h, cb) =>
        cb(
          null,
          (answers[h] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
        ),
    });
    const sender = createCallbackSender({ timeoutMs: 2000, policy: p, attempts: 2, retryDelayMs: 10 });
    for (const name of Object.keys(answers)) {
      // passes the submission check (no DNS there) ...
      expect(parseCallbackUrl(`http://${name}:${rxPort}/cb`, p)).to.be.a('string');
      // ... and is refused once resolved
      const err = await sender.send(report(`http://${name}:${rxPort}/cb`)).catch((e) => e);
      expect(err, name).to.be.instanceOf(CallbackRefusedError);
      expect(err.message, name).to.match(/refused \(rule: (loopback|private|link-local)\)/);
    }
    expect(rx.received).to.have.length(0);
  });

  it('connects only to the allowed addresses of a name that resolves to several', async () => {
    const seen: string[] = [];
    // 127.0.0.2 is loopback too, but only 127.0.0.1/32 is allowed: the lookup must hand over 127.0.0.1
    const p = policy({
      allow: allow('127.0.0.1/32'),
      resolve: (_h, cb) =>
        cb(null, [
          { address: '127.0.0.2', family: 4 },
          { address: '127.0.0.1', family: 4 },
        ]),
    });
    const target = p.connectOptions(new URL(`http://mixed.example:${rxPort}/cb`));
    await new Promise<void>((resolve, reject) =>
      target.lookup('mixed.example', { all: true }, (err, addrs) => {
        if (err) return reject(err);
        for (const a of addrs as unknown as Array<{ address: string }>) seen.push(a.address);
        resolve();
      }),
    );
    expect(seen).to.deep.equal(['127.0.0.1']);
    await createCallbackSender({ timeoutMs: 2000, policy: p }).send(
      report(`http://mixed.example:${rxPort}/cb`, 'mixed-1'),
    );
    expect(rx.forCall('mixed-1')).to.have.length(1);
  });

  it("refuses the platform's own listeners even when a CIDR allows their address; an explicit host:port opens one", () => {
    const listeners: PlatformListener[] = [
      { host: '0.0.0.0', port: 8080, what: 'gateway' },
      { host: '127.0.0.1', port: 8081, what: 'node agent' },
      { host: '127.0.0.1', port: 27017, what: 'store' },
      { host: '10.0.0.9', port: 8081, what: 'node agent' },
      { host: 'redis.internal', port: 6379, what: 'redis' },
    ];
    const p = policy({ allow: allow('127.0.0.0/8,::1/128,10.0.0.0/8'), listeners: () => listeners });
    for (const url of [
      'http://127.0.0.1:8080/',
      'http://2130706433:8080/',
      'http://[::1]:8080/',
      'http://[::ffff:127.0.0.1]:8081/',
      'http://127.0.0.1:27017/',
      'http://203.0.113.7:8080/',
      'http://10.0.0.9:8081/',
      'http://localhost:8081/',
    ]) {
      const err = (() => {
        try {
          parseCallbackUrl(url, p);
        } catch (e) {
          return e as CallbackRefusedError;
        }
        return undefined;
      })();
      expect(err, url).to.be.instanceOf(CallbackRefusedError);
      expect(err!.rule, url).to.equal('platform-listener');
    }
    expect(p.check({ address: '10.1.1.1', port: 6379, host: 'redis.internal' })).to.include({
      allowed: false,
      rule: 'platform-listener',
    });
    // the CIDRs still open other ports of those addresses
    expect(parseCallbackUrl('http://127.0.0.1:9000/cb', p)).to.be.a('string');
    expect(parseCallbackUrl('http://10.0.0.9:9000/cb', p)).to.be.a('string');
    // an explicit endpoint is the one way to a listener's port, and only that one
    const q = policy({ allow: allow('127.0.0.1:8080'), listeners: () => listeners });
    expect(parseCallbackUrl('http://127.0.0.1:8080/cb', q)).to.be.a('string');
    expect(() => parseCallbackUrl('http://127.0.0.1:8081/cb', q)).to.throw(CallbackRefusedError);
    expect(() => parseCallbackUrl('http://127.0.0.1:9000/cb', q)).to.throw(/rule: loopback/);
  });

  it('opens a local receiver by CIDR or host:port, and it gets exactly one callback per call', async () => {
    for (const spec of ['127.0.0.1/32', `127.0.0.1:${rxPort}`, '127.0.0.0/8', `localhost:${rxPort}`]) {
      const p = policy({ allow: allow(spec) });
      const sender = createCallbackSender({ timeoutMs: 2000, policy: p });
      const id = `allowed-${spec}`;
      const host = spec.startsWith('localhost') ? 'localhost' : '127.0.0.1';
      await sender.send(report(parseCallbackUrl(`http://${host}:${rxPort}/cb`, p)!, id));
      expect(rx.forCall(id), spec).to.have.length(1);
      expect(rx.forCall(id)[0]!.body).to.equal('result');
    }
    // an endpoint entry opens that port only
    const p = policy({ allow: allow(`127.0.0.1:${rxPort + 1 > 65535 ? rxPort - 1 : rxPort + 1}`) });
    expect(() => parseCallbackUrl(rx.url, p)).to.throw(CallbackRefusedError);
  });

  it('does not follow redirects (a receiver cannot bounce the callback to an internal address)', async () => {
    const inner = await startCallbackServer();
    const bouncer = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(307, { Location: inner.url });
        res.end();
      });
    });
    await new Promise<void>((r) => bouncer.listen(0, '127.0.0.1', r));
    try {
      const port = (bouncer.address() as AddressInfo).port;
      const p = policy({ allow: allow(`127.0.0.1:${port}`) });
      const err = await createCallbackSender({ timeoutMs: 2000, policy: p, attempts: 3, retryDelayMs: 10 })
        .send(report(`http://127.0.0.1:${port}/cb`))
        .catch((e) => e);
      expect(err).to.be.instanceOf(PlatformError);
      expect(err.message).to.match(/307.*redirects are not followed/);
      expect(inner.received).to.have.length(0);
    } finally {
      bouncer.closeAllConnections();
      await new Promise<void>((r) => bouncer.close(() => r()));
      await inner.close();
    }
  });

  it('reads FASTGSHARE_CALLBACK_ALLOW strictly', () => {
    expect(
      allow(' 10.1.0.0/16 , ::1/128,127.0.0.1:9000,[::1]:9001,Receiver.Example:8443,192.0.2.1,2130706433:7000'),
    ).to.deep.equal([
      { kind: 'cidr', address: '10.1.0.0', prefix: 16, family: 'ipv4' },
      { kind: 'cidr', address: '::1', prefix: 128, family: 'ipv6' },
      { kind: 'endpoint', host: '127.0.0.1', port: 9000 },
      { kind: 'endpoint', host: '::1', port: 9001 },
      { kind: 'endpoint', host: 'receiver.example', port: 8443 },
      { kind: 'cidr', address: '192.0.2.1', prefix: 32, family: 'ipv4' },
      { kind: 'endpoint', host: '127.0.0.1', port: 7000 },
    ]);
    expect(allow('')).to.deep.equal([]);
    for (const bad of [
      '10.0.0.0/33',
      'nothost/8',
      '::1/129',
      'receiver.example',
      'http://x:1/',
      'a:b:c',
      '10.0.0.0/x',
      'host:0',
      'user@host:80',
    ]) {
      expect(() => allow(bad), bad).to.throw(ConfigError, /FASTGSHARE_CALLBACK_ALLOW/);
    }
  });
});
