/** Basic auth on /system/* only, as faas-cli login and the anonymous empty Bearer expect. */
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { readGatewayConfig } from '../../core/config.ts';
import { silentLogger } from '../../core/logger.ts';
import { startTestStore, tempDir, type TestStore } from '../helpers/store.ts';
import { startGateway, type Gateway } from '../../gateway/main.ts';
import { createBasicAuthCheck } from '../../gateway/http/auth.ts';

const basic = (user: string, pass: string) => 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');

describe('gateway basic auth', () => {
  let ts: TestStore;
  let gw: Gateway;
  let dir: { dir: string; cleanup(): Promise<void> };

  before(async () => {
    ts = await startTestStore();
    dir = await tempDir();
    const config = readGatewayConfig({
      PORT: '0',
      FASTGSHARE_HOST: '127.0.0.1',
      FASTGSHARE_DATA_DIR: dir.dir,
      FASTGSHARE_ADMIN_USER: 'admin',
      FASTGSHARE_ADMIN_PASSWORD: 'correct-horse',
      FASTGSHARE_READY_TIMEOUT_MS: '0',
    });
    gw = await startGateway({ config, store: ts.store, nodes: [], log: silentLogger, registry: new Registry() });
  });
  after(async () => {
    await gw?.close();
    await ts?.cleanup();
    await dir?.cleanup();
  });

  const get = (path: string, authorization?: string) =>
    fetch(gw.url + path, { headers: authorization === undefined ? {} : { authorization } });

  it('treats an empty Bearer (faas-cli without login) as anonymous: 401 with WWW-Authenticate', async () => {
    for (const auth of ['Bearer', 'Bearer ', undefined]) {
      const r = await get('/system/functions', auth);
      expect(r.status, String(auth)).to.equal(401);
      expect(r.headers.get('www-authenticate')).to.equal('Basic realm="Restricted"');
      expect(r.headers.get('x-fastgshare-error')).to.equal('unauthorized');
      expect(await r.text()).to.contain('faas-cli login');
    }
  });

  it('401s wrong credentials and accepts the right ones (faas-cli login check)', async () => {
    expect((await get('/system/functions', basic('admin', 'wrong-pass'))).status).to.equal(401);
    expect((await get('/system/functions', basic('root', 'correct-horse'))).status).to.equal(401);
    expect((await get('/system/functions', 'Basic !!!notbase64')).status).to.equal(401);
    const ok = await get('/system/functions', basic('admin', 'correct-horse'));
    expect(ok.status).to.equal(200);
    expect(await ok.json()).to.deep.equal([]);
  });

  it('checks auth before reading the body', async () => {
    const r = await fetch(gw.url + '/system/functions', {
      method: 'POST',
      body: '{not json',
      headers: { authorization: 'Bearer' },
    });
    expect(r.status).to.equal(401);
  });

  it("leaves /function/* and /healthz open; /metrics on the public port is the admin's, open on the metrics port", async () => {
    expect((await get('/function/echo')).status).to.equal(404);
    const anon = await get('/metrics');
    expect(anon.status).to.equal(401);
    expect(await anon.text()).to.contain(`${gw.metricsUrl}/metrics`);
    expect((await get('/metrics', basic('admin', 'wrong-pass'))).status).to.equal(401);
    const admin = await get('/metrics', basic('admin', 'correct-horse'));
    expect(admin.status).to.equal(200);
    expect(await admin.text()).to.contain('process_cpu_user_seconds_total');
    expect(gw.metricsUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    const scraped = await fetch(`${gw.metricsUrl}/metrics`);
    expect(scraped.status).to.equal(200);
    expect(await scraped.text()).to.contain('process_cpu_user_seconds_total');
    expect((await fetch(`${gw.metricsUrl}/system/functions`)).status).to.equal(404);
    const health = await get('/healthz');
    expect(health.status).to.equal(503);
    expect(await health.text()).to.contain('no node agents configured');
  });

  it('compares whole credentials', () => {
    const check = createBasicAuthCheck({ user: 'u', password: 'p:q' });
    expect(check(basic('u', 'p:q'))).to.equal(true);
    expect(check(basic('u', 'p'))).to.equal(false);
    expect(check(undefined)).to.equal(false);
  });
});
