/** The HTTP NodeAgentClient against a plain loopback server speaking the node-agent contract. */
import { expect } from 'chai';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { PlatformError } from '../../core/errors.ts';
import { createHttpNodeAgentClient } from '../../gateway/node-client.ts';
import { nodeCredential } from '../../gateway/nodes/node-token.ts';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A GET /v1/usage body as the agent sends it (one replica of one function on the cpu), plus a field a newer agent might
 * add.
 */
const USAGE = {
  at: '2024-01-01T00:00:00.000Z',
  bootId: 'b1',
  replicas: [
    {
      replicaId: 'fn-1',
      function: 'fn.openfaas-fn',
      device: 'cpu',
      share: { quotaRequest: 0.5, quotaLimit: 1, partition: 50 },
      heldSeconds: 2,
      deviceSeconds: 1,
      reservedDeviceSeconds: 3,
      tokensGranted: 4,
      waitSeconds: 0.5,
    },
  ],
  functions: [
    {
      function: 'fn.openfaas-fn',
      heldSeconds: 2,
      deviceSeconds: 1,
      reservedDeviceSeconds: 3,
      tokensGranted: 4,
      waitSeconds: 0.5,
    },
  ],
  devices: [{ device: 'cpu', windowMs: 100, busySeconds: 2, holders: 0, maxHolders: 1 }],
  fromANewerAgent: true,
};

describe('HTTP node agent client', () => {
  let usageBody: unknown = USAGE;
  let server: http.Server;
  let url: string;
  let seen: { method: string; url: string; body: string; authorization?: string }[];
  const TOKEN = 'a'.repeat(64);

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        seen.push({
          method: req.method!,
          url: req.url!,
          body: Buffer.concat(chunks).toString(),
          authorization: req.headers.authorization,
        });
        const send = (status: number, body: unknown) =>
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        if (req.headers.authorization !== `Bearer ${TOKEN}`)
          return send(401, { code: 'unauthorized', message: 'node token needed' });
        if (req.url === '/v1/usage') return send(200, usageBody);
        if (req.url === '/v1/node')
          return send(200, { name: 'n1', url: 'http://x', cpus: 4, memoryBytes: 1, version: '0.1.0' });
        if (req.method === 'PUT' && req.url === '/v1/functions/openfaas-fn/bad')
          return send(400, { code: 'image_not_found', message: 'image "x:1" is not in the image store' });
        if (req.method === 'PUT')
          return send(200, { name: 'fn', namespace: 'openfaas-fn', image: 'echo:latest', desired: 2, replicas: [] });
        if (req.method === 'DELETE' && req.url === '/v1/functions/openfaas-fn/gone')
          return send(404, { code: 'not_found', message: 'not on this node' });
        if (req.method === 'DELETE') return send(200, { removed: true });
        if (req.url === '/v1/functions') return res.writeHead(500).end('boom');
        if (req.url!.startsWith('/v1/logs')) {
          res.writeHead(200, { 'content-type': 'application/x-ndjson' });
          res.write(
            '{"name":"fn","namespace":"openfaas-fn","instance":"r1","timestamp":"2024-01-01T00:00:00Z","text":"one"}\n{"name":"fn","namespace":"openfaas-fn",',
          );
          setTimeout(() => res.end('"instance":"r1","timestamp":"2024-01-01T00:00:01Z","text":"two"}\n'), 20);
          return;
        }
        send(404, { code: 'not_found', message: 'no route' });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  beforeEach(() => {
    seen = [];
  });
  after(() => new Promise((r) => server.close(r)));

  it('reads node info and applies functions with the spec in the body', async () => {
    const c = createHttpNodeAgentClient(url, { token: TOKEN });
    expect(c.url).to.equal(url.slice(0, -1));
    expect((await c.info()).cpus).to.equal(4);
    const spec = {
      name: 'fn',
      namespace: 'openfaas-fn',
      image: 'echo:latest',
      envVars: {},
      labels: {},
      annotations: {},
      secrets: {},
      readOnlyRootFilesystem: false,
    };
    expect((await c.applyFunction({ spec, replicas: 2 })).desired).to.equal(2);
    expect(seen.at(-1)).to.deep.include({ method: 'PUT', url: '/v1/functions/openfaas-fn/fn' });
    expect(JSON.parse(seen.at(-1)!.body)).to.deep.equal({ spec, replicas: 2 });
  });

  it('turns {code,message} errors into PlatformErrors with the same code', async () => {
    const c = createHttpNodeAgentClient(url, { token: TOKEN });
    const spec = {
      name: 'bad',
      namespace: 'openfaas-fn',
      image: 'x:1',
      envVars: {},
      labels: {},
      annotations: {},
      secrets: {},
      readOnlyRootFilesystem: false,
    };
    const err = await c.applyFunction({ spec, replicas: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(PlatformError);
    expect((err as PlatformError).code).to.equal('image_not_found');
    expect((err as PlatformError).message).to.equal('image "x:1" is not in the image store');
    const boom = await c.listFunctions().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((boom as PlatformError).code).to.equal('unavailable');
    expect((boom as PlatformError).message).to.contain('answered 500');
  });

  it('reports removal of an unknown function as false', async () => {
    const c = createHttpNodeAgentClient(url, { token: TOKEN });
    expect(await c.removeFunction('openfaas-fn', 'gone')).to.equal(false);
    expect(await c.removeFunction('openfaas-fn', 'fn')).to.equal(true);
  });

  it('parses NDJSON log streams split across chunks', async () => {
    const c = createHttpNodeAgentClient(url, { token: TOKEN });
    const lines = [];
    for await (const m of c.logs({
      name: 'fn',
      namespace: 'openfaas-fn',
      tail: 5,
      since: new Date('2024-01-01T00:00:00Z'),
    }))
      lines.push(m.text);
    expect(lines).to.deep.equal(['one', 'two']);
    expect(seen.at(-1)!.url).to.equal(
      '/v1/logs?name=fn&namespace=openfaas-fn&tail=5&since=2024-01-01T00%3A00%3A00.000Z',
    );
  });

  it('reports an unreachable node as unavailable', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    const c = createHttpNodeAgentClient(`http://127.0.0.1:${port}`, { token: TOKEN });
    const err = await c.info().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as PlatformError).code).to.equal('unavailable');
    expect((err as PlatformError).message)
      .to.contain('ECONNREFUSED')
      .and.contain('fast-manager');
  });

  it('sends the bearer token on every call and reads /v1/usage', async () => {
    const c = createHttpNodeAgentClient(url, { token: () => TOKEN });
    await c.info();
    await c.removeFunction('openfaas-fn', 'fn');
    for await (const _ of c.logs({ name: 'fn', namespace: 'openfaas-fn' })) void _;
    const { fromANewerAgent: _, ...known } = USAGE;
    expect(await c.usage()).to.deep.equal(known);
    expect(seen.map((s) => s.authorization)).to.deep.equal(Array(4).fill(`Bearer ${TOKEN}`));
  });

  it("refuses a /v1/usage body that is not the contract's NodeUsage, saying which field", async () => {
    const c = createHttpNodeAgentClient(url, { token: TOKEN });
    try {
      usageBody = { ...USAGE, functions: [{ function: 'fn.openfaas-fn', deviceSeconds: 'lots' }] };
      const err = await c.usage().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(PlatformError);
      expect((err as PlatformError).code).to.equal('unavailable');
      expect((err as PlatformError).message)
        .to.contain('GET /v1/usage')
        .and.contain('functions.0.');
      usageBody = [];
      expect(
        (
          (await c.usage().then(
            () => undefined,
            (e: unknown) => e,
          )) as PlatformError
        ).code,
      ).to.equal('unavailable');
    } finally {
      usageBody = USAGE;
    }
  });
  it('says how to give the token when the agent refuses it', async () => {
    const c = createHttpNodeAgentClient(url, { token: 'b'.repeat(64) });
    const err = await c.listFunctions().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as PlatformError).code).to.equal('unavailable');
    expect((err as PlatformError).message)
      .to.contain('401')
      .and.contain('FASTGSHARE_NODE_TOKEN');
    expect(seen.at(-1)!.authorization).to.equal(`Bearer ${'b'.repeat(64)}`);
  });

  it('fails clearly, without calling the node, when no token is available yet', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fastgshare-nodetoken-'));
    try {
      const c = createHttpNodeAgentClient(url, { token: nodeCredential({ dataDir: dir }) });
      const err = await c.info().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as PlatformError).code).to.equal('unavailable');
      expect((err as PlatformError).message).to.contain('FASTGSHARE_NODE_TOKEN');
      expect(seen).to.deep.equal([]);
      // the agent writes its token later: the next call reads it
      await writeFile(join(dir, 'node-agent.token'), `${TOKEN}\n`, { mode: 0o600 });
      expect((await c.info()).name).to.equal('n1');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
