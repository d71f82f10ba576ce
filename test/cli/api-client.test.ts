import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOpenFaasClient } from '../../cli/api-client.ts';
import { PlatformError } from '../../core/errors.ts';

interface Seen {
  method: string;
  url: string;
  auth?: string;
  body: string;
}

type Reply = (req: Seen, res: ServerResponse) => void;

/** A loopback server that records every request and answers with `reply`. */
async function recordingServer(reply: Reply): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = {
        method: req.method!,
        url: req.url!,
        auth: req.headers.authorization,
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(s);
      reply(s, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

const creds = { username: 'admin', password: 'secret-pass' };
const basic = `Basic ${Buffer.from('admin:secret-pass').toString('base64')}`;

describe('cli/api-client (against a loopback server)', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });
  async function serve(reply: Reply) {
    const s = await recordingServer(reply);
    servers.push(s.server);
    return s;
  }

  it('deploys with PUT first and POSTs when the gateway answers 404', async () => {
    const { url, seen } = await serve((req, res) => res.writeHead(req.method === 'PUT' ? 404 : 202).end());
    const client = createOpenFaasClient({ gateway: url + '/', credentials: creds });
    const outcome = await client.deploy({ service: 'echo', image: 'echo:latest', labels: {}, annotations: {} });
    expect(outcome).to.deep.equal({ action: 'created', status: 202 });
    expect(seen.map((s) => `${s.method} ${s.url}`)).to.deep.equal(['PUT /system/functions', 'POST /system/functions']);
    expect(seen.every((s) => s.auth === basic)).to.equal(true);
    expect(JSON.parse(seen[1]!.body)).to.deep.equal({
      service: 'echo',
      image: 'echo:latest',
      labels: {},
      annotations: {},
    });
  });

  it('stops after a successful PUT, and --replace sends DELETE then POST', async () => {
    const { url, seen } = await serve((req, res) => res.writeHead(req.method === 'DELETE' ? 404 : 200).end());
    const client = createOpenFaasClient({ gateway: url });
    expect(await client.deploy({ service: 'echo', image: 'e' })).to.deep.equal({ action: 'updated', status: 200 });
    await client.deploy({ service: 'echo', image: 'e', namespace: 'team-a' }, { replace: true });
    await client.deploy({ service: 'echo', image: 'e' }, { update: false });
    expect(seen.map((s) => s.method)).to.deep.equal(['PUT', 'DELETE', 'POST', 'POST']);
    expect(JSON.parse(seen[1]!.body)).to.deep.equal({ functionName: 'echo', namespace: 'team-a' });
    expect(seen[0]!.auth).to.equal(undefined);
  });

  it('invokes /function/NAME.NAMESPACE with query and headers, and sends no credentials', async () => {
    const { url, seen } = await serve((req, res) => res.writeHead(200, { 'x-call-id': 'id-1' }).end(`got ${req.body}`));
    const client = createOpenFaasClient({ gateway: url, credentials: creds });
    const r = await client.invoke('echo', {
      query: [
        ['a', '1'],
        ['b', 'x y'],
      ],
      body: Buffer.from('hi'),
      headers: [['X-Foo', 'bar']],
    });
    expect(r.status).to.equal(200);
    expect(r.body.toString()).to.equal('got hi');
    await client.invoke('echo', { namespace: 'team-a', method: 'get' });
    await client.invoke('echo', { async: true, body: Buffer.from('q') });
    expect(seen.map((s) => `${s.method} ${s.url}`)).to.deep.equal([
      'POST /function/echo.openfaas-fn?a=1&b=x+y',
      'GET /function/echo.team-a',
      'POST /async-function/echo.openfaas-fn',
    ]);
    expect(seen.every((s) => s.auth === undefined)).to.equal(true);
  });

  it('says to log in on 401, and passes on the gateway message for other errors', async () => {
    const { url } = await serve((req, res) => {
      if (req.url.startsWith('/system/functions'))
        res.writeHead(401, { 'www-authenticate': 'Basic realm="Restricted"' }).end('unauthorized');
      else
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end(JSON.stringify({ code: 'bad_request', message: 'field "image": is required' }));
    });
    const anonymous = await createOpenFaasClient({ gateway: url })
      .listFunctions()
      .catch((e: PlatformError) => e);
    expect((anonymous as PlatformError).code).to.equal('unauthorized');
    expect((anonymous as PlatformError).message).to.contain('run `fastgshare login');
    const wrong = await createOpenFaasClient({ gateway: url, credentials: creds })
      .listFunctions()
      .catch((e: PlatformError) => e);
    expect((wrong as PlatformError).message).to.contain('refused the credentials');
    const bad = await createOpenFaasClient({ gateway: url })
      .scale('echo', 2)
      .catch((e: PlatformError) => e);
    expect((bad as PlatformError).code).to.equal('bad_request');
    expect((bad as PlatformError).message).to.equal('cannot scale "echo": field "image": is required (HTTP 400)');
  });

  it('says the gateway is unreachable and how to start it', async () => {
    const { url, server } = await serve((_req, res) => res.end());
    servers.pop();
    await new Promise((r) => server.close(r));
    const err = await createOpenFaasClient({ gateway: url })
      .listFunctions()
      .catch((e: PlatformError) => e);
    expect((err as PlatformError).code).to.equal('unavailable');
    expect((err as PlatformError).message).to.contain(
      `cannot reach the gateway at ${url}: is \`fastgshare up\` running?`,
    );
  });

  it('reports an unknown function and a missing removal distinctly', async () => {
    const { url } = await serve((_req, res) => res.writeHead(404).end('not found'));
    const client = createOpenFaasClient({ gateway: url });
    const err = await client.getFunction('nope').catch((e: PlatformError) => e);
    expect((err as PlatformError).code).to.equal('not_found');
    expect(await client.removeFunction('nope')).to.equal(false);
  });

  it('reads NDJSON log lines, split across chunks', async () => {
    const line = (t: string) =>
      JSON.stringify({
        name: 'echo',
        namespace: 'openfaas-fn',
        instance: 'r1',
        timestamp: '2026-01-01T00:00:00Z',
        text: t,
      }) + '\n';
    const { url, seen } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      const all = line('one') + line('two');
      res.write(all.slice(0, 30));
      setTimeout(() => res.end(all.slice(30)), 20);
    });
    const texts: string[] = [];
    for await (const l of createOpenFaasClient({ gateway: url }).logs({ name: 'echo', tail: 5 })) texts.push(l.text);
    expect(texts).to.deep.equal(['one', 'two']);
    expect(seen[0]!.url).to.equal('/system/logs?name=echo&tail=5&follow=false');
  });
});
