/**
 * The node agent's API needs its bearer token on every route: without one, with a wrong one, with
 * the right one in another scheme or with a prefix of it → 401 that says how to configure it, and
 * nothing is done (a PUT without the token starts no replica). With it, each route works. The token
 * is made at first start in <dataDir>/node-agent.token (0600), kept across restarts, and
 * FASTGSHARE_NODE_TOKEN replaces it.
 */
import { expect } from 'chai';
import { stat, readFile, mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSpec, startHarness, useAgentHarness, waitReady } from './harness.ts';
import { loadOrCreateNodeToken } from '../../fast-manager/http/node-token.ts';
import { CaptureSink, createLogger, silentLogger } from '../../core/logger.ts';

/** Every route of the agent's API (core/contracts/node-agent.ts), with a body where it takes one. */
const ROUTES: { method: string; path: string; body?: unknown }[] = [
  { method: 'GET', path: '/healthz' },
  { method: 'GET', path: '/metrics' },
  { method: 'GET', path: '/v1/node' },
  { method: 'GET', path: '/v1/functions' },
  {
    method: 'PUT',
    path: '/v1/functions/openfaas-fn/authprobe',
    body: {
      spec: makeSpec({ name: 'authprobe', envProcess: "node -e \"require('fs').writeFileSync('/tmp/pwned','x')\"" }),
      replicas: 1,
    },
  },
  { method: 'DELETE', path: '/v1/functions/openfaas-fn/authprobe' },
  { method: 'GET', path: '/v1/logs?name=authprobe' },
  { method: 'GET', path: '/v1/logs?name=authprobe&follow=true' },
  { method: 'GET', path: '/v1/usage' },
  { method: 'GET', path: '/no/such/route' },
  { method: 'GET', path: '/v1/devices/cpu/timeline?last=1000' },
];

describe('node agent API authentication', function () {
  this.timeout(30_000);
  const ctx = useAgentHarness();

  const send = (r: { method: string; path: string; body?: unknown }, authorization?: string) =>
    fetch(ctx.h.agent.url + r.path, {
      method: r.method,
      headers: {
        ...(authorization !== undefined ? { authorization } : {}),
        ...(r.body ? { 'content-type': 'application/json' } : {}),
      },
      body: r.body ? JSON.stringify(r.body) : undefined,
      signal: AbortSignal.timeout(5_000),
    });

  it('answers 401 with how to configure the token on every route without the right token', async () => {
    const token = ctx.h.agent.token;
    const wrong = [
      undefined,
      '',
      'Bearer',
      `Bearer ${'0'.repeat(token.length)}`,
      `Bearer ${token.slice(0, -1)}`,
      `Bearer ${token}x`,
      `Basic ${Buffer.from(`admin:${token}`).toString('base64')}`,
      token,
      `Bearer  ${token} extra`,
    ];
    for (const r of ROUTES) {
      for (const auth of wrong) {
        const res = await send(r, auth);
        const body = (await res.json()) as { code: string; message: string };
        expect(res.status, `${r.method} ${r.path} with ${JSON.stringify(auth)}`).to.equal(401);
        expect(body.code).to.equal('unauthorized');
        expect(body.message).to.contain('FASTGSHARE_NODE_TOKEN').and.contain('node-agent.token');
        expect(res.headers.get('www-authenticate')).to.match(/^Bearer/);
      }
    }
    // nothing was applied by the refused PUTs
    expect(await ctx.h.fn('authprobe')).to.equal(undefined);
  });

  it('serves every route with the token (any case of "Bearer")', async () => {
    const ok = (r: (typeof ROUTES)[number]) => send(r, `bearer ${ctx.h.agent.token}`);
    expect((await ok(ROUTES[0]!)).status).to.equal(200);
    expect(await (await ok(ROUTES[1]!)).text()).to.contain('fastgshare_');
    expect(((await (await ok(ROUTES[2]!)).json()) as { name: string }).name).to.be.a('string');
    expect((await ok(ROUTES[3]!)).status).to.equal(200);
    const put = await send(
      { ...ROUTES[4]!, body: { spec: makeSpec({ name: 'authprobe' }), replicas: 1 } },
      `Bearer ${ctx.h.agent.token}`,
    );
    expect(put.status).to.equal(200);
    await waitReady(ctx.h, 'authprobe', 1);
    expect((await ok(ROUTES[6]!)).status).to.equal(200);
    const follow = await send(ROUTES[7]!, `Bearer ${ctx.h.agent.token}`).catch((e: Error) => e);
    // a follow stream stays open: the headers came (200) before the client timeout
    expect(follow instanceof Error ? follow.name : (follow as Response).status).to.equal(200);
    if (!(follow instanceof Error)) await follow.body?.cancel();
    expect([200, 404]).to.include((await ok(ROUTES[8]!)).status);
    expect((await ok(ROUTES[5]!)).status).to.equal(200);
    expect((await ok(ROUTES[9]!)).status).to.equal(404);
    expect(((await (await ok(ROUTES[10]!)).json()) as { device: string }).device).to.equal('cpu');
  });

  it('keeps the token it made in <dataDir>/node-agent.token, mode 0600', async () => {
    const file = join(ctx.h.dataDir, 'node-agent.token');
    expect((await stat(file)).mode & 0o777).to.equal(0o600);
    const stored = (await readFile(file, 'utf8')).trim();
    expect(stored).to.equal(ctx.h.agent.token);
    expect(stored).to.match(/^[0-9a-f]{64}$/); // 32 random bytes
  });
});

describe('node agent token', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fastgshare-nodetok-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('is made once and read back on the next start; agents starting together agree', async () => {
    const all = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateNodeToken(dir, undefined, silentLogger)));
    expect(new Set(all.map((t) => t.token)).size).to.equal(1);
    expect((await loadOrCreateNodeToken(dir, undefined, silentLogger)).token).to.equal(all[0]!.token);
  });

  it('is different on each fresh data dir', async () => {
    const other = await mkdtemp(join(tmpdir(), 'fastgshare-nodetok-'));
    try {
      expect((await loadOrCreateNodeToken(dir, undefined, silentLogger)).token).not.to.equal(
        (await loadOrCreateNodeToken(other, undefined, silentLogger)).token,
      );
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('tightens a token file others can read to 0600 and says so', async () => {
    await writeFile(join(dir, 'node-agent.token'), `${'c'.repeat(64)}\n`);
    await chmod(join(dir, 'node-agent.token'), 0o644);
    const sink = new CaptureSink();
    const t = await loadOrCreateNodeToken(dir, undefined, createLogger({ sink, level: 'debug' }));
    expect(t.token).to.equal('c'.repeat(64));
    expect((await stat(join(dir, 'node-agent.token'))).mode & 0o777).to.equal(0o600);
    expect(sink.lines().join('\n')).to.contain('made it 0600');
  });

  it('uses FASTGSHARE_NODE_TOKEN when given (no file), and the agent then accepts only it', async () => {
    const given = 'g'.repeat(40);
    const h = await startHarness({ dataDir: dir, env: { FASTGSHARE_NODE_TOKEN: given } });
    try {
      expect(h.agent.token).to.equal(given);
      expect(
        (await fetch(`${h.agent.url}/v1/node`, { headers: { authorization: `Bearer ${given}` } })).status,
      ).to.equal(200);
      expect(
        (await fetch(`${h.agent.url}/v1/node`, { headers: { authorization: `Bearer ${'h'.repeat(40)}` } })).status,
      ).to.equal(401);
      await stat(join(dir, 'node-agent.token')).then(
        () => expect.fail('no token file is written when the token is given'),
        (err: NodeJS.ErrnoException) => expect(err.code).to.equal('ENOENT'),
      );
    } finally {
      await h.close();
    }
  });
});
