/**
 * The auto-scaler's side of admission against the real store: `fit` lowers a planned count to the
 * largest one within every limit (tenant, node, ceiling) instead of refusing, agrees with what a
 * user's scale is refused at, never raises a total that is already over, and the scale target
 * keeps why it was lowered for GET /system/explain/<fn>.
 */
import { expect } from 'chai';
import type { NodeAgentClient, NodeInfo } from '../../../core/contracts/node-agent.ts';
import { readAdmissionConfig } from '../../../core/config.ts';
import { CaptureSink, createLogger } from '../../../core/logger.ts';
import { systemClock } from '../../../core/clock.ts';
import { startTestStore, type TestStore } from '../../helpers/store.ts';
import { evenSpreadPlacement } from '../../../gateway/control/placement.ts';
import { createAdmission, type Admission } from '../../../gateway/admission/admission.ts';
import { createNodeCapacities } from '../../../gateway/admission/node-capacities.ts';
import { createTenantLimitsStore } from '../../../gateway/admission/tenant-limits.ts';
import type { AdmissionFunction } from '../../../gateway/admission/footprint.ts';
import { createControlScaleTarget } from '../../../gateway/autoscale/scale-target.ts';
import type { FunctionsControl } from '../../../gateway/control/functions.ts';
import type { Reconciler } from '../../../gateway/control/reconciler.ts';

const Q = 'fastgshare/gpu_quota_request';
const P = 'fastgshare/gpu_sm_partition';
const GiB = 2 ** 30;

describe('admission for the auto-scaler: fit instead of refuse', function () {
  this.timeout(20_000);
  let ts: TestStore;
  let admission: Admission;
  const sink = new CaptureSink();
  const node = {
    url: 'http://n1',
    info: async (): Promise<NodeInfo> => ({
      name: 'n1',
      url: 'http://n1',
      cpus: 2,
      memoryBytes: 4 * GiB,
      version: 'x',
    }),
  } as NodeAgentClient;
  const nodes = [node];

  const store = async (
    name: string,
    namespace: string,
    replicas: number,
    annotations: Record<string, string>,
    limits?: { memory: string },
  ) => {
    await ts.store.models.Function.create({
      name,
      namespace,
      image: 'echo:latest',
      annotations,
      replicas,
      ...(limits ? { limits } : {}),
    });
    return { name, namespace, annotations, replicas, limits } as AdmissionFunction;
  };

  before(async () => {
    ts = await startTestStore();
    await ts.store.models.Tenant.create({ name: 'alice', namespaces: ['alice'], passwordHash: 'x' });
    admission = createAdmission({
      models: ts.store.models,
      placement: evenSpreadPlacement,
      capacities: createNodeCapacities({ clock: systemClock, log: createLogger({ sink }) }),
      limits: createTenantLimitsStore(ts.store.models),
      config: readAdmissionConfig({ FASTGSHARE_MAX_REPLICAS_PER_FUNCTION: '6' }),
      log: createLogger({ sink }),
    });
  });
  after(async () => {
    await ts?.cleanup();
  });

  it("lowers a tenant's planned count to its device share and says why", async () => {
    const a = await store('quarter', 'alice', 1, { [Q]: '0.25', [P]: '100' });
    const f = await admission.fit(a, 5, nodes);
    expect(f.replicas).to.equal(4);
    // 5 × 0.25 breaks both
    expect(f.limitedBy!.map((v) => v.limit)).to.deep.equal(['tenant.deviceShare', 'node.deviceShare']);
    expect(f.limitedBy![0]).to.include({ value: 1, current: 0.25 });
    // the same line a user's scale is refused at
    await admission.admitScale(a, 4, 4, nodes, 'scale');
    let err: unknown;
    await admission.admitScale(a, 5, 5, nodes, 'scale').catch((e: unknown) => (err = e));
    expect(err).to.have.property('code', 'limit_exceeded');
  });

  it('holds the per-function ceiling and the node for functions no tenant owns', async () => {
    const plain = await store('plain', 'openfaas-fn', 1, {});
    const f = await admission.fit(plain, 100, nodes);
    expect(f.replicas).to.equal(6);
    expect(f.limitedBy!.map((v) => v.limit)).to.deep.equal(['function.replicas']);
    // the cpu device holds 0.25 of alice's; 0.5 per replica: one more fits, not two
    const half = await store('half', 'openfaas-fn', 1, { [Q]: '0.5', [P]: '100' });
    const h = await admission.fit(half, 3, nodes);
    expect(h.replicas).to.equal(1);
    expect(h.limitedBy!.map((v) => v.limit)).to.deep.equal(['node.deviceShare']);
    expect(h.limitedBy![0]).to.include({ scope: 'node "n1" device "cpu"', value: 1 });
    // node memory: 4Gi, 1Gi per replica
    const mem = await store('mem', 'openfaas-fn', 1, {}, { memory: '1Gi' });
    const m = await admission.fit(mem, 6, nodes);
    expect(m.replicas).to.equal(4);
    expect(m.limitedBy!.map((v) => v.limit)).to.deep.equal(['node.memoryBytes']);
  });

  it('never lowers below the count running and lets anything scale down', async () => {
    const over = await store('over', 'alice', 3, { [Q]: '1', [P]: '100' }); // stored before limits: far over
    expect(await admission.fit(over, 5, nodes)).to.deep.include({ replicas: 3 });
    expect(await admission.fit(over, 1, nodes)).to.deep.equal({ replicas: 1 });
    await admission.admitScale(over, 1, 1, nodes, 'scale down'); // no throw
  });

  it('counts a stored function whose annotations no longer parse as reserving nothing, and says so', async () => {
    await ts.store.models.Function.create({
      name: 'broken',
      namespace: 'openfaas-fn',
      image: 'echo:latest',
      annotations: { [Q]: 'lots' },
      replicas: 2,
    });
    const info = await admission.info('alice');
    expect(info.usage.functions).to.equal(2);
    expect(sink.lines().join('\n')).to.contain('broken.openfaas-fn');
  });

  it('keeps why a scale was lowered for the explain route, and forgets it when a scale is not', async () => {
    const answers = [
      {
        replicas: 2,
        limitedBy: [
          {
            limit: 'tenant.replicas',
            scope: 'tenant "alice"',
            value: 20,
            requested: 21,
            current: 19,
            unit: 'replicas' as const,
            remedy: 'ask',
          },
        ],
      },
      { replicas: 3 },
    ];
    const control = { scaleWithin: async () => answers.shift()! } as unknown as FunctionsControl;
    const target = createControlScaleTarget({ control, reconciler: { trigger() {} } as Reconciler });
    expect(await target.scale('fn', 'alice', 5)).to.equal(2);
    const clamp = target.admission!('fn.alice')!;
    expect(clamp).to.include({ asked: 5, applied: 2 });
    expect(clamp.limits).to.deep.equal(['tenant.replicas']);
    expect(clamp.reasons[0])
      .to.contain('tenant "alice"')
      .and.contain('is 20 replicas')
      .and.contain('needs 21 replicas');
    expect(await target.scale('fn', 'alice', 3)).to.equal(3);
    expect(target.admission!('fn.alice')).to.equal(undefined);
  });
});
