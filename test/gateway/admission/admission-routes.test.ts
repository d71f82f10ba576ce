/**
 * Admission control through a real gateway with auth and tenants, a real node agent and the real
 * store: the 1000-replica scale refused, the 3 × (request 1, partition 100) case refused at the
 * second replica, a scale within limits accepted, an admin override that raises a tenant's limit,
 * node capacity for the admin too, and after every refusal the function exactly as before (store
 * record, replicas the node runs). Small limits keep the number of real processes low.
 */
import { expect } from 'chai';
import { totalmem } from 'node:os';
import type { IssuedCredentials } from '../../../core/contracts/tenants.ts';
import type { TenantLimitsInfo } from '../../../core/contracts/admission.ts';
import { startGatewayHarness, type CallResult, type GatewayHarness } from '../harness.ts';

const ADMIN = { user: 'admin', password: 'admin-password-1' };
const basic = (user: string, pass: string) => 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
const adminAuth = basic(ADMIN.user, ADMIN.password);
const Q = 'fastgshare/gpu_quota_request';
const P = 'fastgshare/gpu_sm_partition';
const FULL = { [Q]: '1', [P]: '100' };

describe('admission control through the gateway', function () {
  this.timeout(90_000);
  let h: GatewayHarness;
  let aliceAuth: string;
  let bobAuth: string;

  const as = (auth: string, method: string, path: string, body?: unknown) =>
    h.call(method, path, {
      body,
      headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    });
  const scale = (auth: string, name: string, replicas: number) =>
    as(auth, 'POST', `/system/scale-function/${name}`, { serviceName: name, replicas });
  /** Everything a refusal must leave alone: the store record and what the node was asked to run. */
  const state = async (name: string, namespace: string) => {
    const doc = await h.testStore.store.models.Function.findOne({ name, namespace }).lean();
    const r = await as(adminAuth, 'GET', `/system/function/${name}?namespace=${namespace}`);
    const nodes = await Promise.all(
      h.agents.map(async (a) => {
        const res = await fetch(`${a.url}/v1/functions`, {
          headers: a.token ? { authorization: `Bearer ${a.token}` } : {},
        });
        expect(res.status, 'the node agent lists its functions').to.equal(200);
        return (await res.json()) as { name: string; namespace: string; desired: number }[];
      }),
    );
    const desired = nodes
      .flat()
      .filter((f) => f.name === name && f.namespace === namespace)
      .map((f) => f.desired);
    return {
      doc: doc ? { ...doc, invocationCount: undefined } : null,
      status: r.status,
      replicas: r.status === 200 ? (r.json() as { replicas: number }).replicas : undefined,
      desired,
    };
  };
  const refused = (r: CallResult, ...parts: string[]) => {
    expect(r.status, r.text).to.equal(403);
    expect(r.headers.get('x-fastgshare-error')).to.equal('limit_exceeded');
    for (const p of parts) expect(r.text).to.contain(p);
    expect(r.text).not.to.match(/\/tmp\/|\/work\/|\.fastgshare/); // no server paths
  };
  const limits = async (tenant: string) =>
    (await as(adminAuth, 'GET', `/system/tenants/${tenant}/limits`)).json() as TenantLimitsInfo;

  before(async () => {
    h = await startGatewayHarness({
      env: {
        FASTGSHARE_ADMIN_USER: ADMIN.user,
        FASTGSHARE_ADMIN_PASSWORD: ADMIN.password,
        FASTGSHARE_TENANT_HASH_ROUNDS: '4',
        FASTGSHARE_AUTOSCALE: 'false',
        FASTGSHARE_TENANT_MAX_REPLICAS: '4',
        FASTGSHARE_MAX_REPLICAS_PER_FUNCTION: '8',
      },
    });
    const alice = (await as(adminAuth, 'POST', '/system/tenants', { name: 'alice' })).json() as IssuedCredentials;
    const bob = (await as(adminAuth, 'POST', '/system/tenants', { name: 'bob' })).json() as IssuedCredentials;
    aliceAuth = basic('alice', alice.password);
    bobAuth = basic('bob', bob.password);
    let r = await as(aliceAuth, 'POST', '/system/functions', { service: 'alice-fn', image: 'echo:latest' });
    expect(r.status, r.text).to.equal(202);
    r = await as(aliceAuth, 'POST', '/system/functions', { service: 'gpu', image: 'echo:latest', annotations: FULL });
    expect(r.status, r.text).to.equal(202);
  });
  after(async () => {
    await h?.close();
  });

  it("refuses a tenant's 1000-replica scale with the per-function ceiling, the admin's too, and changes nothing", async () => {
    const before = await state('alice-fn', 'alice');
    expect(before.doc?.replicas).to.equal(1);
    const r = await scale(aliceAuth, 'alice-fn', 1000);
    refused(
      r,
      'scale function "alice-fn" in namespace "alice" to 1000 replicas',
      'function.replicas',
      'is 8 replicas',
      'needs 1000 replicas',
      'FASTGSHARE_MAX_REPLICAS_PER_FUNCTION',
      'nothing was changed',
    );
    refused(
      await as(adminAuth, 'POST', '/system/scale-function/alice-fn?namespace=alice', {
        serviceName: 'alice-fn',
        replicas: 1000,
      }),
      'function.replicas',
    );
    expect(await state('alice-fn', 'alice')).to.deep.equal(before);
  });

  it("refuses a scale over the tenant's replicas, naming the limit and the command that raises it", async () => {
    const before = await state('alice-fn', 'alice');
    // alice holds 2 replicas (alice-fn 1, gpu 1) of her 4
    const r = await scale(aliceAuth, 'alice-fn', 4);
    refused(
      r,
      'tenant "alice"',
      'tenant.replicas',
      'is 4 replicas',
      'needs 5 replicas',
      '(now 2 replicas)',
      'fastgshare tenant limits alice --replicas 5',
    );
    expect(await state('alice-fn', 'alice')).to.deep.equal(before);
  });

  it('accepts a scale within every limit', async () => {
    const r = await scale(aliceAuth, 'alice-fn', 3);
    expect(r.status, r.text).to.equal(202);
    const after = await state('alice-fn', 'alice');
    expect(after.doc?.replicas).to.equal(3);
    expect(after.desired.reduce((a, n) => a + n, 0)).to.equal(3);
    expect((await limits('alice')).usage).to.include({ replicas: 4, functions: 2, deviceShare: 1 });
    expect((await scale(aliceAuth, 'alice-fn', 1)).status).to.equal(202); // down is always allowed
  });

  it("refuses the 3 × (request 1, partition 100) case at the second replica: tenant share and the node's device", async () => {
    const before = await state('gpu', 'alice');
    expect(before.doc?.replicas).to.equal(1);
    for (const n of [2, 3]) {
      const r = await scale(aliceAuth, 'gpu', n);
      refused(
        r,
        'tenant.deviceShare',
        'is 1 device(s)',
        `needs ${n} device(s)`,
        'fastgshare tenant limits alice --device-share',
        'node.deviceShare',
        'device "cpu"',
        '(now 1 device(s)',
      );
      expect(await state('gpu', 'alice')).to.deep.equal(before);
    }
    // the same replicas asked for at deploy time (scale.min 3) are refused too, and no function is created
    const d = await as(aliceAuth, 'POST', '/system/functions', {
      service: 'gpu3',
      image: 'echo:latest',
      annotations: FULL,
      labels: { 'com.openfaas.scale.min': '3' },
    });
    refused(d, 'deploy function "gpu3"', 'tenant.deviceShare', 'needs 4 device(s)');
    expect(await state('gpu3', 'alice')).to.deep.equal({ doc: null, status: 404, replicas: undefined, desired: [] });
  });

  it('refuses an update that would raise the share and leaves the function exactly as before', async () => {
    const before = await state('alice-fn', 'alice');
    const r = await as(aliceAuth, 'PUT', '/system/functions', {
      service: 'alice-fn',
      image: 'echo:latest',
      annotations: { [Q]: '0.5', [P]: '100' },
      envVars: { CHANGED: '1' },
    });
    refused(r, 'update function "alice-fn"', 'tenant.deviceShare', 'needs 1.5 device(s)');
    expect(await state('alice-fn', 'alice')).to.deep.equal(before);
    expect(before.doc?.envVars).to.deep.equal({});
  });

  it("refuses scale labels above the ceiling and memory over the tenant's limit at deploy", async () => {
    refused(
      await as(aliceAuth, 'POST', '/system/functions', {
        service: 'wide',
        image: 'echo:latest',
        labels: { 'com.openfaas.scale.max': '100' },
      }),
      'label com.openfaas.scale.max',
      'is 8 replicas',
      'needs 100 replicas',
    );
    refused(
      await as(aliceAuth, 'POST', '/system/functions', {
        service: 'big',
        image: 'echo:latest',
        limits: { memory: '3Gi' },
        labels: { 'com.openfaas.scale.min': '3' },
      }),
      'tenant.memoryBytes',
      'is 8Gi',
      'needs 9Gi',
      '--memory 9Gi',
    );
    expect((await state('wide', 'alice')).doc).to.equal(null);
    expect((await state('big', 'alice')).doc).to.equal(null);
  });

  it("lets the admin raise one tenant's limits, shown in GET, and only that tenant's", async () => {
    const before = await limits('alice');
    expect(before.defaults).to.deep.equal({ replicas: 4, functions: 20, deviceShare: 1, memoryBytes: 8 * 2 ** 30 });
    expect(before.overrides).to.deep.equal({});
    const put = await as(adminAuth, 'PUT', '/system/tenants/alice/limits', { replicas: 6, memory: '16Gi' });
    expect(put.status, put.text).to.equal(200);
    const info = put.json() as TenantLimitsInfo;
    expect(info.overrides).to.deep.equal({ replicas: 6, memoryBytes: 16 * 2 ** 30 });
    expect(info.effective).to.include({ replicas: 6, functions: 20, memoryBytes: 16 * 2 ** 30 });
    expect((await limits('alice')).effective.replicas).to.equal(6);
    expect((await limits('bob')).effective.replicas).to.equal(4);
    const r = await scale(aliceAuth, 'alice-fn', 4);
    expect(r.status, r.text).to.equal(202);
    expect((await state('alice-fn', 'alice')).doc?.replicas).to.equal(4);
    // raising the tenant's share does not lift the node's: one cpu device holds one device of guarantees
    expect((await as(adminAuth, 'PUT', '/system/tenants/alice/limits', { deviceShare: 3 })).status).to.equal(200);
    const gpuBefore = await state('gpu', 'alice');
    const g = await scale(aliceAuth, 'gpu', 2);
    refused(g, 'node.deviceShare', 'device "cpu"');
    expect(g.text).not.to.contain('tenant.deviceShare');
    expect(await state('gpu', 'alice')).to.deep.equal(gpuBefore);
    // null puts a limit back to the default: alice is over it now, can scale down but not up
    const reset = await as(adminAuth, 'PUT', '/system/tenants/alice/limits', { replicas: null });
    expect((reset.json() as TenantLimitsInfo).effective.replicas).to.equal(4);
    refused(await scale(aliceAuth, 'alice-fn', 5), 'tenant.replicas', '(now 5 replicas)');
    expect((await scale(aliceAuth, 'alice-fn', 2)).status).to.equal(202);
  });

  it('limits the number of functions', async () => {
    expect((await as(adminAuth, 'PUT', '/system/tenants/bob/limits', { functions: 1 })).status).to.equal(200);
    expect((await as(bobAuth, 'POST', '/system/functions', { service: 'one', image: 'echo:latest' })).status).to.equal(
      202,
    );
    refused(
      await as(bobAuth, 'POST', '/system/functions', { service: 'two', image: 'echo:latest' }),
      'tenant "bob"',
      'tenant.functions',
      'is 1 functions',
      'needs 2 functions',
      '--functions 2',
    );
    expect((await state('two', 'bob')).doc).to.equal(null);
  });

  it("holds the node's memory for the admin's own functions too", async () => {
    const over = `${Math.ceil(totalmem() / 2 ** 20) + 1024}Mi`;
    const r = await as(adminAuth, 'POST', '/system/functions', {
      service: 'hog',
      image: 'echo:latest',
      limits: { memory: over },
    });
    refused(r, 'node.memoryBytes', 'memory', 'nothing was changed');
    expect((await state('hog', 'openfaas-fn')).doc).to.equal(null);
  });

  it('keeps limits to the admin and refuses bad limit bodies (attacker probes)', async () => {
    for (const [method, body] of [
      ['GET', undefined],
      ['PUT', { replicas: 1000 }],
    ] as const) {
      const r = await as(aliceAuth, method, '/system/tenants/alice/limits', body);
      expect(r.status, r.text).to.equal(403);
    }
    expect((await limits('alice')).overrides).to.not.have.property('replicas');
    const bad: unknown[] = [
      { replicas: -1 },
      { replicas: 1.5 },
      { replicas: '9' },
      { deviceShare: 'lots' },
      { memory: 'much' },
      { memory: '1Gi', memoryBytes: 5 },
      { admin: true },
      {},
      [1],
      { replicas: 1e9 },
    ];
    for (const b of bad) {
      const r = await as(adminAuth, 'PUT', '/system/tenants/alice/limits', b);
      expect(r.status, `${JSON.stringify(b)}: ${r.text}`).to.equal(400);
    }
    expect((await as(adminAuth, 'PUT', '/system/tenants/nobody/limits', { replicas: 1 })).status).to.equal(404);
    // a negative or fractional scale is a bad request, not an admission question
    expect((await scale(aliceAuth, 'alice-fn', -1)).status).to.equal(400);
    // another tenant's function cannot be scaled (the scope), and bob's limits do not move alice's
    expect(
      (
        await as(bobAuth, 'POST', '/system/scale-function/alice-fn?namespace=alice', {
          serviceName: 'alice-fn',
          replicas: 1,
        })
      ).status,
    ).to.equal(403);
  });

  it('shows a tenant its own limits and usage at /system/tenant/limits, and only its own', async () => {
    const own = await as(aliceAuth, 'GET', '/system/tenant/limits');
    expect(own.status, own.text).to.equal(200);
    const mine = own.json() as TenantLimitsInfo;
    expect(mine).to.deep.equal(await limits('alice'));
    const bobs = (await as(bobAuth, 'GET', '/system/tenant/limits')).json() as TenantLimitsInfo;
    expect(bobs).to.deep.equal(await limits('bob'));
    expect(bobs).to.not.deep.equal(mine);
    // read only for the tenant; the admin has no "own" tenant limits
    expect((await as(aliceAuth, 'PUT', '/system/tenant/limits', { replicas: 1000 })).status).to.be.oneOf([403, 404]);
    expect((await as(adminAuth, 'GET', '/system/tenant/limits')).status).to.equal(400);
  });
});
