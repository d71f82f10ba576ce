/**
 * `fastgshare tenant` and `fastgshare cost` in-process against a real gateway with auth on and
 * known usage in its store: the admin creates, lists, rotates and removes tenants; the cost
 * table shows the known figures; a tenant's login sees only its own cost.
 */
import { expect } from 'chai';
import { Readable } from 'node:stream';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { readGatewayConfig } from '../../core/config.ts';
import { silentLogger } from '../../core/logger.ts';
import { startTestStore, tempDir, type TestStore } from '../helpers/store.ts';
import { startGateway, type Gateway } from '../../gateway/main.ts';
import { incUsage } from '../../gateway/metering/usage-writer.ts';
import { main } from '../../cli/main.ts';

function io(stdin = '') {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: { write: (s: string | Uint8Array) => (out += s.toString()) },
      stderr: { write: (s: string | Uint8Array) => (err += s.toString()) },
      stdin: Readable.from([Buffer.from(stdin)]),
    },
    out: () => out,
    err: () => err,
  };
}

describe('fastgshare tenant and cost commands', function () {
  this.timeout(20_000);
  let ts: TestStore;
  let gw: Gateway;
  let dir: { dir: string; cleanup(): Promise<void> };
  const T0 = Date.parse('2026-03-01T10:00:00Z');

  before(async () => {
    ts = await startTestStore();
    dir = await tempDir();
    const config = readGatewayConfig({
      PORT: '0',
      FASTGSHARE_HOST: '127.0.0.1',
      FASTGSHARE_DATA_DIR: dir.dir,
      FASTGSHARE_ADMIN_PASSWORD: 'admin-password-1',
      FASTGSHARE_READY_TIMEOUT_MS: '0',
      FASTGSHARE_TENANT_HASH_ROUNDS: '4',
      FASTGSHARE_PRICE_DEVICE_HOUR: '3.6',
      FASTGSHARE_PRICE_GB_HOUR: '0',
      FASTGSHARE_PRICE_MILLION_INVOCATIONS: '0',
    });
    gw = await startGateway({ config, store: ts.store, nodes: [], log: silentLogger, registry: new Registry() });
    await incUsage(
      ts.store.models,
      { namespace: 'acme', name: 'ocr', device: 'cpu', start: T0 },
      { invocations: 4, deviceSeconds: 1000 },
    );
    await incUsage(
      ts.store.models,
      { namespace: 'globex', name: 'vad', device: 'cpu', start: T0 + 60_000 },
      { invocations: 6, deviceSeconds: 500 },
    );
  });
  after(async () => {
    await gw?.close();
    await ts?.cleanup();
    await dir?.cleanup();
  });

  const run = async (argv: string[], user = 'admin', password = 'admin-password-1', stdin = '') => {
    const t = io(stdin);
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
  const range = ['--from', '2026-03-01T10:00:00Z', '--to', '2026-03-01T11:00:00Z'];

  it('creates, lists, rotates and removes tenants', async () => {
    const created = await run(['tenant', 'create', 'acme']);
    expect(created.code, created.err).to.equal(0);
    const password = /password: (\S+)/.exec(created.out)![1]!;
    expect(created.out, 'the password is not shown as an API key').not.to.contain('api key');
    expect(created.out).to.contain('fastgshare tenant key create --tenant acme');
    const given = await run(
      ['tenant', 'create', 'globex', '-n', 'globex', 'globex-dev', '--tenant-password-stdin'],
      'admin',
      'admin-password-1',
      'globex-secret-pw\n',
    );
    expect(given.code, given.err).to.equal(0);
    expect(given.out).to.contain('password: (as given)');
    const list = await run(['tenant', 'list']);
    expect(list.out)
      .to.match(/acme\s+acme/)
      .and.to.match(/globex\s+globex,globex-dev/);
    const rotated = await run(['tenant', 'rotate', 'acme']);
    const fresh = /password: (\S+)/.exec(rotated.out)![1]!;
    expect(fresh).not.to.equal(password);
    expect((await run(['cost', ...range], 'acme', password)).code).to.equal(1);
    const asAcme = await run(['cost', ...range], 'acme', fresh);
    expect(asAcme.code, asAcme.err).to.equal(0);
    expect(asAcme.out).to.contain('ocr.acme').and.not.to.contain('globex');
    const denied = await run(['cost', '--tenant', 'globex', ...range], 'acme', fresh);
    expect(denied.code).to.equal(1);
    expect(denied.err).to.contain('only read its own cost');
    expect((await run(['tenant', 'list'], 'acme', fresh)).code).to.equal(1);
  });

  it("tenant key create|list|revoke: the tenant its own keys, the admin any tenant's; a key is printed once and only invokes", async () => {
    const pw = 'acme-cli-password-1';
    expect(
      (await run(['tenant', 'rotate', 'acme', '--tenant-password-stdin'], 'admin', 'admin-password-1', `${pw}\n`)).code,
    ).to.equal(0);
    const made = await run(['tenant', 'key', 'create', '--name', 'ci'], 'acme', pw);
    expect(made.code, made.err).to.equal(0);
    const key = /^(fgk_([0-9a-f]{16})_\S{43})$/m.exec(made.out);
    expect(key, made.out).to.not.equal(null);
    const id = key![2]!;
    const byAdmin = await run(['tenant', 'key', 'create', '--tenant', 'acme']);
    expect(byAdmin.code, byAdmin.err).to.equal(0);
    const list = await run(['tenant', 'key', 'list'], 'acme', pw);
    expect(list.code, list.err).to.equal(0);
    expect(list.out).to.match(new RegExp(`${id}\\s+acme\\s+ci`));
    expect(list.out.trim().split('\n')).to.have.length(3);
    expect(list.out).not.to.contain(key![1]!.slice(21));
    // the key invokes only: the CLI logged in with it cannot reach /system
    const res = await fetch(`${gw.url}/system/functions`, { headers: { authorization: `Bearer ${key![1]}` } });
    expect(res.status).to.equal(401);
    expect(
      (await run(['tenant', 'key', 'list', '--tenant', 'acme'], 'globex', 'globex-secret-pw')).code,
      "another tenant cannot list acme's",
    ).to.equal(1);
    const revoked = await run(['tenant', 'key', 'revoke', id], 'acme', pw);
    expect(revoked.code, revoked.err).to.equal(0);
    expect((await run(['tenant', 'key', 'list', '--tenant', 'acme'])).out).not.to.contain(id);
    const again = await run(['tenant', 'key', 'revoke', id], 'acme', pw);
    expect(again.code).to.equal(1);
    expect(again.err).to.contain('no API key');
  });

  it('prints the cost table with the known figures, CSV, and saves the HTML report', async () => {
    const r = await run(['cost', ...range]);
    expect(r.code, r.err).to.equal(0);
    // 1000 device-s × 3.6/3600 = 1; 500 device-s = 0.5
    expect(r.out).to.match(/acme\s+ocr\.acme\s+4\s+0\s+-\s+1000\s+0\s+0\s+1\.000000/);
    expect(r.out).to.match(/globex\s+vad\.globex\s+6\s+.*0\.500000/);
    expect(r.out).to.match(/PLATFORM\s+\(total\)\s+10\s+.*1\.500000/);
    const csv = await run(['cost', '--csv', '--granularity', 'minute', ...range]);
    expect(csv.out.trim().split('\r\n')).to.have.length(3);
    const html = await run(['cost', '--html', 'report.html', ...range]);
    expect(html.code, html.err).to.equal(0);
    const page = await readFile(join(dir.dir, 'report.html'), 'utf8');
    expect(page).to.contain('<svg').and.to.contain('Tenant acme');
  });

  it('removes a tenant', async () => {
    expect((await run(['tenant', 'remove', 'globex'])).code).to.equal(0);
    const again = await run(['tenant', 'remove', 'globex']);
    expect(again.code).to.equal(1);
    expect(again.err).to.contain('not found');
  });
});
