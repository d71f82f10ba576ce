/**
 * `fastgshare tenant limits` in-process against a real gateway with auth: shows the defaults and
 * usage, sets and resets overrides, and a tenant's own login is refused.
 */
import { expect } from 'chai';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { readGatewayConfig } from '../../../core/config.ts';
import { silentLogger } from '../../../core/logger.ts';
import { startTestStore, tempDir, type TestStore } from '../../helpers/store.ts';
import { startGateway, type Gateway } from '../../../gateway/main.ts';
import { main } from '../../../cli/main.ts';
import { limitsBody } from '../../../cli/commands/tenant-limits.ts';

function io() {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: { write: (s: string | Uint8Array) => (out += s.toString()) },
      stderr: { write: (s: string | Uint8Array) => (err += s.toString()) },
      stdin: Readable.from([]),
    },
    out: () => out,
    err: () => err,
  };
}

describe('fastgshare tenant limits', function () {
  this.timeout(20_000);
  let ts: TestStore;
  let gw: Gateway;
  let dir: { dir: string; cleanup(): Promise<void> };
  let alicePassword = '';

  before(async () => {
    ts = await startTestStore();
    dir = await tempDir();
    const config = readGatewayConfig({
      PORT: '0',
      FASTGSHARE_HOST: '127.0.0.1',
      FASTGSHARE_DATA_DIR: dir.dir,
      FASTGSHARE_ADMIN_PASSWORD: 'admin-password-1',
      FASTGSHARE_TENANT_HASH_ROUNDS: '4',
      FASTGSHARE_AUTOSCALE: 'false',
      FASTGSHARE_TENANT_MAX_MEMORY: '2Gi',
    });
    gw = await startGateway({ config, store: ts.store, nodes: [], log: silentLogger, registry: new Registry() });
    const r = await fetch(`${gw.url}/system/tenants`, {
      method: 'POST',
      headers: {
        authorization: 'Basic ' + Buffer.from('admin:admin-password-1').toString('base64'),
        'content-type': 'application/json',
      },
      body: JSON.stringify({ name: 'alice' }),
    });
    alicePassword = ((await r.json()) as { password: string }).password;
  });
  after(async () => {
    await gw?.close();
    await ts?.cleanup();
    await dir?.cleanup();
  });

  const run = async (argv: string[], user = 'admin', password = 'admin-password-1') => {
    const t = io();
    const code = await main({
      argv: [...argv, '-g', gw.url, '--username', user, '--password', password],
      env: { OPENFAAS_CONFIG: join(dir.dir, 'cfg') },
      io: t.io,
      cwd: dir.dir,
      home: dir.dir,
      stopSignal: () => new Promise(() => {}),
    });
    return { code, out: t.out(), err: t.err() };
  };
  const row = (out: string, limit: string) =>
    out
      .split('\n')
      .find((l) => l.startsWith(limit))
      ?.trim()
      .split(/\s{2,}/);

  it('shows the defaults and what the tenant holds', async () => {
    const r = await run(['tenant', 'limits', 'alice']);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.contain('tenant: alice (per-function replica ceiling: 32)');
    expect(row(r.out, 'replicas')).to.deep.equal(['replicas', '0', '20', '-', '20']);
    expect(row(r.out, 'memory')).to.deep.equal(['memory', '0', '2Gi', '-', '2Gi']);
  });

  it('sets overrides and resets them to the default', async () => {
    let r = await run(['tenant', 'limits', 'alice', '--replicas', '40', '--device-share', '2.5', '--memory', '16Gi']);
    expect(r.code, r.err).to.equal(0);
    expect(row(r.out, 'replicas')).to.deep.equal(['replicas', '0', '40', '40', '20']);
    expect(row(r.out, 'device share')).to.deep.equal(['device share', '0', '2.5', '2.5', '1']);
    expect(row(r.out, 'memory')).to.deep.equal(['memory', '0', '16Gi', '16Gi', '2Gi']);
    const doc = await ts.store.models.Tenant.findOne({ name: 'alice' }).lean();
    expect(doc?.limits).to.deep.equal({ replicas: 40, deviceShare: 2.5, memoryBytes: 16 * 2 ** 30 });
    r = await run(['tenant', 'limits', 'alice', '--reset', 'replicas', 'memory']);
    expect(row(r.out, 'replicas')).to.deep.equal(['replicas', '0', '20', '-', '20']);
    expect(row(r.out, 'memory')).to.deep.equal(['memory', '0', '2Gi', '-', '2Gi']);
    expect(row(r.out, 'device share')).to.deep.equal(['device share', '0', '2.5', '2.5', '1']);
  });

  it("fails with the gateway's message for bad values, unknown tenants and a tenant's own login", async () => {
    let r = await run(['tenant', 'limits', 'alice', '--replicas', '-3']);
    expect(r.code).to.not.equal(0);
    expect(r.err).to.contain('replicas must be a whole number');
    r = await run(['tenant', 'limits', 'nobody']);
    expect(r.code).to.not.equal(0);
    expect(r.err).to.contain('tenant "nobody" not found');
    r = await run(['tenant', 'limits', 'alice', '--replicas', '1000'], 'alice', alicePassword);
    expect(r.code).to.not.equal(0);
    expect(r.err).to.match(/403/);
    expect((await ts.store.models.Tenant.findOne({ name: 'alice' }).lean())?.limits).to.not.have.property('replicas');
  });

  it('builds the request body from the flags', () => {
    expect(limitsBody({})).to.equal(undefined);
    expect(limitsBody({ replicas: '5', memory: '1073741824' })).to.deep.equal({ replicas: 5, memory: 1073741824 });
    expect(limitsBody({ reset: ['device-share'] })).to.deep.equal({ deviceShare: null });
    expect(() => limitsBody({ reset: ['cpu'] })).to.throw(/not a limit/);
    expect(() => limitsBody({ replicas: 'many' })).to.throw(/--replicas must be a number/);
  });
});
