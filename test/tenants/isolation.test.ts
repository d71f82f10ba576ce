/**
 * Tenants against a real gateway, node agent and store: each /system route a tenant could use
 * to reach another tenant's functions is refused (one test per route), listing shows only its
 * own, invocation auth per function, credential rotation, and a real metered run whose
 * invocation counts and costs add up per tenant and for the platform.
 */
import type { CostReport } from '../../core/contracts/cost.ts';
import type { IssuedCredentials } from '../../core/contracts/tenants.ts';
import { expect } from 'chai';
import { startGatewayHarness, type GatewayHarness } from '../gateway/harness.ts';

const ADMIN = { user: 'admin', password: 'admin-password-1' };
const basic = (user: string, pass: string) => 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
const adminAuth = basic(ADMIN.user, ADMIN.password);

type Issued = IssuedCredentials;

describe('tenants: isolation, invocation auth and metering through the gateway', function () {
  this.timeout(60_000);
  let h: GatewayHarness;
  let acme: Issued;
  let globex: Issued;
  let acmeAuth: string;
  let globexAuth: string;

  const as = (auth: string, method: string, path: string, body?: unknown) =>
    h.call(method, path, {
      body,
      headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    });
  const deploy = (auth: string, body: Record<string, unknown>) =>
    as(auth, 'POST', '/system/functions', { image: 'echo:latest', ...body });
  const ready = async (name: string, namespace: string) =>
    h.eventually(async () => {
      const r = await as(adminAuth, 'GET', `/system/function/${name}?namespace=${namespace}`);
      expect(r.status).to.equal(200);
      expect(r.json().availableReplicas).to.be.greaterThan(0);
    }, 20_000);

  before(async () => {
    h = await startGatewayHarness({
      env: {
        FASTGSHARE_ADMIN_USER: ADMIN.user,
        FASTGSHARE_ADMIN_PASSWORD: ADMIN.password,
        FASTGSHARE_TENANT_HASH_ROUNDS: '4',
        FASTGSHARE_METER_POLL_MS: '200',
        FASTGSHARE_METER_FLUSH_MS: '200',
        // the deliberate wrong credentials below all come from 127.0.0.1; throttling has its own tests
        FASTGSHARE_LOGIN_FREE_FAILURES: '1000',
      },
    });
    const a = await as(adminAuth, 'POST', '/system/tenants', { name: 'acme' });
    expect(a.status, a.text).to.equal(201);
    acme = a.json();
    const g = await as(adminAuth, 'POST', '/system/tenants', {
      name: 'globex',
      namespaces: ['globex', 'globex-dev'],
      password: 'globex-secret-pw',
    });
    expect(g.status, g.text).to.equal(201);
    globex = g.json();
    acmeAuth = basic('acme', acme.password);
    globexAuth = basic('globex', 'globex-secret-pw');
    // each tenant deploys without naming a namespace: it lands in the tenant's first one
    expect(
      (
        await deploy(acmeAuth, {
          service: 'echo',
          annotations: { 'fastgshare/invoke_auth': 'tenant', 'fastgshare/slo_ms': '5000' },
        })
      ).status,
    ).to.equal(202);
    expect((await deploy(acmeAuth, { service: 'open' })).status).to.equal(202);
    expect((await deploy(globexAuth, { service: 'echo' })).status).to.equal(202);
    expect((await deploy(globexAuth, { service: 'dev', namespace: 'globex-dev' })).status).to.equal(202);
    expect((await as(acmeAuth, 'POST', '/system/secrets', { name: 'token', value: 'acme-only' })).status).to.equal(201);
    await ready('echo', 'acme');
    await ready('open', 'acme');
    await ready('echo', 'globex');
  });
  after(async () => {
    await h?.close();
  });

  it('creates tenants with generated or given credentials, stored only as a bcrypt hash', async () => {
    expect(acme).to.include({ name: 'acme', username: 'acme', generated: true });
    expect(acme.namespaces).to.deep.equal(['acme']);
    expect(acme.password).to.have.length.greaterThan(20);
    expect(acme, 'the password is not an API key').not.to.have.property('apiKey');
    expect(globex).to.include({ generated: false, password: 'globex-secret-pw' });
    const docs = await h.testStore.store.models.Tenant.find({}).lean();
    for (const d of docs) {
      expect(d.passwordHash).to.match(/^\$2[aby]\$04\$/);
      expect(JSON.stringify(d)).not.to.contain(d.name === 'acme' ? acme.password : 'globex-secret-pw');
    }
    const list = await as(adminAuth, 'GET', '/system/tenants');
    expect(list.json().map((t: { name: string }) => t.name)).to.deep.equal(['acme', 'globex']);
    expect(list.text).not.to.contain('password');
    expect(h.sink.lines().join('\n')).not.to.contain(acme.password).and.not.to.contain('globex-secret-pw');
  });

  it('refuses a tenant that claims a namespace another tenant owns, or the default one', async () => {
    expect((await as(adminAuth, 'POST', '/system/tenants', { name: 'initech', namespaces: ['acme'] })).status).to.equal(
      409,
    );
    expect(
      (await as(adminAuth, 'POST', '/system/tenants', { name: 'initech', namespaces: ['openfaas-fn'] })).status,
    ).to.equal(400);
    expect((await as(adminAuth, 'POST', '/system/tenants', { name: 'Bad.Name' })).status).to.equal(400);
    expect((await as(adminAuth, 'POST', '/system/tenants', { name: 'initech', password: 'short' })).status).to.equal(
      400,
    );
  });

  it('lets a tenant log in the way faas-cli does (basic auth on /system/functions)', async () => {
    expect((await as(acmeAuth, 'GET', '/system/functions')).status).to.equal(200);
    expect((await as(basic('acme', 'wrong-password-x'), 'GET', '/system/functions')).status).to.equal(401);
    // an API key (or the password as a bearer token) opens no /system route
    expect((await as(`Bearer acme.${acme.password}`, 'GET', '/system/functions')).status).to.equal(401);
    const key = await as(acmeAuth, 'POST', '/system/tenant/keys', {});
    expect(key.status, key.text).to.equal(201);
    expect((await as(`Bearer ${key.json().key}`, 'GET', '/system/functions')).status).to.equal(401);
  });

  it("list: only the tenant's own functions; another tenant's namespace is a 403", async () => {
    const own = await as(globexAuth, 'GET', '/system/functions');
    expect(own.status).to.equal(200);
    expect(
      own
        .json()
        .map((f: { name: string; namespace: string }) => `${f.name}.${f.namespace}`)
        .sort(),
    ).to.deep.equal(['dev.globex-dev', 'echo.globex']);
    const acmeOwn = await as(acmeAuth, 'GET', '/system/functions');
    expect(
      acmeOwn
        .json()
        .map((f: { name: string }) => f.name)
        .sort(),
    ).to.deep.equal(['echo', 'open']);
    const other = await as(globexAuth, 'GET', '/system/functions?namespace=acme');
    expect(other.status).to.equal(403);
    expect(other.text).to.contain('globex');
    expect((await as(globexAuth, 'GET', '/system/functions?namespace=openfaas-fn')).status).to.equal(403);
    expect((await as(globexAuth, 'GET', '/system/namespaces')).json()).to.deep.equal(['globex', 'globex-dev']);
  });

  it("describe: 403 on another tenant's function", async () => {
    expect((await as(globexAuth, 'GET', '/system/function/echo?namespace=acme')).status).to.equal(403);
    expect((await as(acmeAuth, 'GET', '/system/function/echo?namespace=acme')).status).to.equal(200);
    expect((await as(acmeAuth, 'GET', '/system/function/echo')).json().namespace).to.equal('acme');
  });

  it("deploy: 403 into another tenant's namespace", async () => {
    const r = await deploy(globexAuth, { service: 'intruder', namespace: 'acme' });
    expect(r.status).to.equal(403);
    expect(await h.testStore.store.models.Function.exists({ name: 'intruder' })).to.equal(null);
  });

  it("update: 403 on another tenant's function, which stays as it was", async () => {
    const r = await as(globexAuth, 'PUT', '/system/functions', {
      service: 'echo',
      namespace: 'acme',
      image: 'echo:latest',
      envVars: { HACKED: '1' },
    });
    expect(r.status).to.equal(403);
    const doc = await h.testStore.store.models.Function.findOne({ name: 'echo', namespace: 'acme' }).lean();
    expect(doc?.envVars).not.to.have.property('HACKED');
  });

  it("scale: 403 on another tenant's function (namespace in the body or the query)", async () => {
    expect(
      (
        await as(globexAuth, 'POST', '/system/scale-function/echo', {
          serviceName: 'echo',
          namespace: 'acme',
          replicas: 0,
        })
      ).status,
    ).to.equal(403);
    expect(
      (await as(globexAuth, 'POST', '/system/scale-function/echo?namespace=acme', { serviceName: 'echo', replicas: 0 }))
        .status,
    ).to.equal(403);
    const doc = await h.testStore.store.models.Function.findOne({ name: 'echo', namespace: 'acme' }).lean();
    expect(doc?.replicas).to.equal(1);
  });

  it("remove: 403 on another tenant's function, which stays", async () => {
    expect(
      (await as(globexAuth, 'DELETE', '/system/functions', { functionName: 'open', namespace: 'acme' })).status,
    ).to.equal(403);
    expect(await h.testStore.store.models.Function.exists({ name: 'open', namespace: 'acme' })).not.to.equal(null);
  });

  it("logs: 403 on another tenant's function", async () => {
    expect((await as(globexAuth, 'GET', '/system/logs?name=echo&namespace=acme')).status).to.equal(403);
    expect((await as(acmeAuth, 'GET', '/system/logs?name=echo')).status).to.equal(200);
  });

  it("secrets: 403 listing, creating, updating or removing in another tenant's namespace", async () => {
    expect((await as(globexAuth, 'GET', '/system/secrets?namespace=acme')).status).to.equal(403);
    expect(
      (await as(globexAuth, 'POST', '/system/secrets', { name: 'x', namespace: 'acme', value: 'v' })).status,
    ).to.equal(403);
    expect(
      (await as(globexAuth, 'PUT', '/system/secrets', { name: 'token', namespace: 'acme', value: 'stolen' })).status,
    ).to.equal(403);
    expect((await as(globexAuth, 'DELETE', '/system/secrets', { name: 'token', namespace: 'acme' })).status).to.equal(
      403,
    );
    const own = await as(acmeAuth, 'GET', '/system/secrets');
    expect(own.json().map((s: { name: string }) => s.name)).to.deep.equal(['token']);
    expect((await as(globexAuth, 'GET', '/system/secrets')).json()).to.deep.equal([]);
  });

  it("cost: 403 on another tenant's cost; a tenant's report holds only itself", async () => {
    expect((await as(globexAuth, 'GET', '/system/cost?tenant=acme')).status).to.equal(403);
    expect((await as(globexAuth, 'GET', '/system/cost/report?tenant=acme')).status).to.equal(403);
    const own = await as(globexAuth, 'GET', '/system/cost');
    expect(own.status).to.equal(200);
    expect(own.json().tenants.map((t: { tenant: string }) => t.tenant)).to.deep.equal(['globex']);
  });

  it('admin-only routes: a tenant cannot manage tenants or namespaces', async () => {
    expect((await as(globexAuth, 'POST', '/system/tenants', { name: 'evil' })).status).to.equal(403);
    expect((await as(globexAuth, 'GET', '/system/tenants')).status).to.equal(403);
    expect((await as(globexAuth, 'POST', '/system/tenants/acme/rotate', {})).status).to.equal(403);
    expect((await as(globexAuth, 'POST', '/system/namespace', { name: 'acme2' })).status).to.equal(403);
    expect((await as(globexAuth, 'DELETE', '/system/namespace/acme')).status).to.equal(403);
  });

  it("invocation: a tenant-only function needs its owner's key; public ones stay open", async () => {
    expect((await h.call('POST', '/function/echo.acme', { body: 'hi' })).status).to.equal(401);
    expect(
      (await h.call('POST', '/function/echo.acme', { body: 'hi', headers: { authorization: globexAuth } })).status,
    ).to.equal(403);
    expect(
      (await h.call('POST', '/function/echo.acme', { body: 'hi', headers: { authorization: `Bearer acme.wrong` } }))
        .status,
    ).to.equal(401);
    expect(
      (await h.call('POST', '/function/echo.acme', { body: 'hi', headers: { authorization: acmeAuth } })).status,
    ).to.equal(200);
    const key = (await as(acmeAuth, 'POST', '/system/tenant/keys', { name: 'invoke-test' })).json().key as string;
    expect(
      (await h.call('POST', '/function/echo.acme', { body: 'hi', headers: { authorization: `Bearer ${key}` } })).status,
    ).to.equal(200);
    expect(
      (
        await h.call('POST', '/function/echo.acme', {
          body: 'hi',
          headers: { authorization: `Bearer acme.${acme.password}` },
        })
      ).status,
      'the password is not a key',
    ).to.equal(401);
    expect(
      (await h.call('POST', '/function/echo.acme', { body: 'hi', headers: { authorization: adminAuth } })).status,
    ).to.equal(200);
    expect((await h.call('POST', '/function/open.acme', { body: 'hi' })).status).to.equal(200);
    expect((await h.call('POST', '/async-function/echo.acme', { body: 'hi' })).status).to.equal(401);
  });

  it('rejects an unknown invoke_auth value at deploy', async () => {
    const r = await deploy(acmeAuth, { service: 'bad', annotations: { 'fastgshare/invoke_auth': 'private' } });
    expect(r.status).to.equal(400);
    expect(r.text).to.contain('fastgshare/invoke_auth');
  });

  it('meters a real run: invocations per tenant, and tenant costs add up to the platform total', async () => {
    const before = await as(adminAuth, 'GET', '/system/cost?granularity=minute');
    const count = (rep: CostReport, tenant: string) =>
      rep.tenants.find((t) => t.tenant === tenant)?.totals.invocations ?? 0;
    const a0 = count(before.json<CostReport>(), 'acme');
    const g0 = count(before.json<CostReport>(), 'globex');
    for (let i = 0; i < 7; i++)
      expect(
        (await h.call('POST', '/function/echo.acme', { body: String(i), headers: { authorization: acmeAuth } })).status,
      ).to.equal(200);
    for (let i = 0; i < 5; i++)
      expect((await h.call('POST', '/function/echo.globex', { body: String(i) })).status).to.equal(200);
    const rep = await h.eventually(async () => {
      const r = await as(adminAuth, 'GET', '/system/cost?granularity=minute');
      expect(r.status).to.equal(200);
      const j = r.json<CostReport>();
      expect(count(j, 'acme') - a0).to.equal(7);
      expect(count(j, 'globex') - g0).to.equal(5);
      const mem = j.tenants.find((t) => t.tenant === 'globex')!.totals.gbSeconds;
      expect(mem).to.be.greaterThan(0);
      return j;
    });
    const acmeEcho = rep.tenants.find((t) => t.tenant === 'acme')!.functions.find((f) => f.name === 'echo')!;
    // echo.acme has an SLO (5 s): every call is judged, and an echo answers well within it
    expect(acmeEcho.totals.sloMet + acmeEcho.totals.sloViolated).to.equal(acmeEcho.totals.invocations);
    expect(acmeEcho.totals.sloMet).to.be.at.least(7);
    expect(acmeEcho.totals.errorCount).to.equal(0);
    const sum = (k: 'invocations' | 'cost') => rep.tenants.reduce((s: number, t) => s + t.totals[k], 0);
    expect(sum('invocations')).to.equal(rep.total.invocations);
    expect(sum('cost')).to.be.closeTo(rep.total.cost, 1e-9);
    expect(rep.total.cost).to.be.greaterThan(0);
    const csv = await h.call('GET', '/system/cost?format=csv&granularity=minute', {
      headers: { authorization: globexAuth },
    });
    expect(csv.headers.get('content-type')).to.contain('text/csv');
    const rows = csv.text.trim().split('\r\n');
    expect(rows[0]).to.match(/^start,tenant,namespace,function,invocations/);
    expect(rows.slice(1).every((r) => r.split(',')[1] === 'globex')).to.equal(true);
    const html = await h.call('GET', '/system/cost/report', { headers: { authorization: adminAuth } });
    expect(html.headers.get('content-type')).to.contain('text/html');
    expect(html.text).to.contain('<svg').and.to.contain('Tenant acme').and.to.contain('Tenant globex');
  });

  it('rotates credentials: the old password stops working at once, the new one works; API keys are not touched', async () => {
    const key = (await as(adminAuth, 'POST', '/system/tenants/acme/keys', {})).json().key as string;
    const r = await as(adminAuth, 'POST', '/system/tenants/acme/rotate', {});
    expect(r.status).to.equal(200);
    const fresh: Issued = r.json();
    expect(fresh.password).not.to.equal(acme.password);
    expect((await as(acmeAuth, 'GET', '/system/functions')).status).to.equal(401);
    expect(
      (await h.call('POST', '/function/echo.acme', { body: 'x', headers: { authorization: acmeAuth } })).status,
    ).to.equal(401);
    expect(
      (await h.call('POST', '/function/echo.acme', { body: 'x', headers: { authorization: `Bearer ${key}` } })).status,
      'keys are separate from the password',
    ).to.equal(200);
    expect((await as(basic('acme', fresh.password), 'GET', '/system/functions')).status).to.equal(200);
    acme = fresh;
    acmeAuth = basic('acme', fresh.password);
  });

  it('removes a tenant: its credentials stop working, its functions stay for the admin', async () => {
    expect((await as(adminAuth, 'DELETE', '/system/tenants/globex')).status).to.equal(200);
    expect((await as(globexAuth, 'GET', '/system/functions')).status).to.equal(401);
    expect((await as(adminAuth, 'GET', '/system/functions?namespace=globex')).json()).to.have.length(1);
    expect((await as(adminAuth, 'DELETE', '/system/tenants/globex')).status).to.equal(404);
  });
});
